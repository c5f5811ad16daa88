"""Every figure the dashboard shows, written the French way through Babel (CLDR data), registered as Jinja
filters by :func:`init_app`.

« 12 345 », « 85,3 % », « 4,0 Go », « 18 novembre 2026 à 2 h 41 », « depuis 10 jours », « 1 jour »
(not « 1 440 minutes »), « 1 machine » / « 2 machines », and opening hours in words (« du lundi au
vendredi, de 9 h à 12 h ») from the OpenStreetMap syntax the communes' places are stored in.

The kiosk's own formatting (:mod:`kiosk.text.french`) is reused where it fits: the fleet server may import
``kiosk`` (the reverse is forbidden, see setup.cfg's import-linter contracts).
"""

from __future__ import annotations

import datetime as dt
import decimal
import functools
import re

from babel.dates import format_date, format_timedelta
from babel.numbers import (format_decimal, format_percent, get_decimal_symbol, get_group_symbol,
                           get_minus_sign_symbol)
from flask import Flask

from kiosk.text.french import LOCALE, NBSP, clock_time, day_name, plural, time_range

OSM_DAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
_OSM_RULE = re.compile(r"^\s*(?P<days>[A-Za-z]{2}(?:\s*[-,]\s*[A-Za-z]{2})*)\s+(?P<ranges>[0-9:,\-\s]+)$")
_RANGE = re.compile(r"^([01]\d|2[0-4]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d$")
_GROUP, _DECIMAL, _MINUS = get_group_symbol(LOCALE), get_decimal_symbol(LOCALE), get_minus_sign_symbol(LOCALE)


def number(value: int | float | None, decimals: int | None = None) -> str:
    """« 12 345 »; with ``decimals``, that many digits after the comma (« 4,0 »). None is « — »."""
    if value is None:
        return "—"
    if decimals is None and type(value) is int:  # Babel's own answer, without its pattern machinery
        return f"{value:,}".replace(",", _GROUP).replace("-", _MINUS)
    if decimals is None:
        return format_decimal(value, locale=LOCALE)
    # What Babel writes for the pattern "#,##0.0…" (the value read through str(), rounded half to even),
    # a few times faster: a page of figures formats thousands of them.
    exact = decimal.Decimal(str(value)).quantize(decimal.Decimal(1).scaleb(-decimals), rounding=decimal.ROUND_HALF_EVEN)
    return f"{exact:,.{decimals}f}".replace(",", "\0").replace(".", _DECIMAL).replace("\0", _GROUP).replace("-", _MINUS)


def percent(value: float | None, decimals: int = 1) -> str:
    """A percentage given in percent (85.3 → « 85,3 % »); None is « — »."""
    if value is None:
        return "—"
    return _percent(value, decimals)


@functools.lru_cache(maxsize=4096)  # a page of figures repeats few distinct percentages; Babel is slow
def _percent(value: float, decimals: int) -> str:
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "") + " %"
    return format_percent(value / 100, format=pattern, locale=LOCALE)


def with_unit(value: float | None, unit: str, decimals: int = 1) -> str:
    """« 4,0 Go », « 62,5 °C » (a no-break space before the unit)."""
    return "—" if value is None else f"{number(value, decimals)}{NBSP}{unit}"


def gigabytes(value_bytes: int | None) -> str:
    return "—" if not value_bytes else with_unit(value_bytes / 1024 ** 3, "Go")


def count_of(count: int | None, one: str, other: str) -> str:
    """« 1 machine », « 2 machines », « 0 machine » (CLDR's French plural rule)."""
    return plural(int(count or 0), one, other)


def agreed(count: int | None, one: str, other: str) -> str:
    """The word alone, agreed with the count: « disparue » for 1, « disparues » for 2."""
    return one if LOCALE.plural_form(int(count or 0)) == "one" else other


def _moment(timestamp: float | dt.datetime) -> dt.datetime:
    if isinstance(timestamp, dt.datetime):
        return timestamp if timestamp.tzinfo else timestamp.replace(tzinfo=dt.timezone.utc)
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc)


def date_time(timestamp: float | dt.datetime | None) -> str:
    """« 18 novembre 2026 à 2 h 41 » (UTC, the server's clock); None is « jamais »."""
    if timestamp is None:
        return "jamais"
    moment = _moment(timestamp)
    return f"{format_date(moment.date(), 'd MMMM y', locale=LOCALE)} à {clock_time(moment.time())}"


@functools.lru_cache(maxsize=2048)  # pure, and Babel's dates are slow: a page writes hundreds
def day(value: str | dt.date | None) -> str:
    """An ISO day (« 2026-11-18 ») as « 18 novembre 2026 »; None is « — »."""
    if not value:
        return "—"
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    return format_date(value, "d MMMM y", locale=LOCALE)


@functools.lru_cache(maxsize=2048)  # pure, and Babel's dates are slow: a page writes hundreds
def short_day(value: str | dt.date) -> str:
    """« 18 nov. » (chart axes)."""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    return format_date(value, "d MMM", locale=LOCALE)


@functools.lru_cache(maxsize=2048)  # pure, and Babel's dates are slow: a page writes hundreds
def month(value: str) -> str:
    """« 2026-01 » as « janvier 2026 »."""
    return format_date(dt.date.fromisoformat(value + "-01"), "MMMM y", locale=LOCALE)


@functools.lru_cache(maxsize=2048)  # pure, and Babel's dates are slow: a page writes hundreds
def short_month(value: str) -> str:
    """« 2026-01 » as « janv. » (chart axes, the year is in the title)."""
    return format_date(dt.date.fromisoformat(value + "-01"), "MMM", locale=LOCALE)


def duration(seconds: float | dt.timedelta | None) -> str:
    """« 1 jour », « 10 jours », « 5 minutes », « 2 heures »: whole days from one day on (staff count in
    days, not weeks), else Babel's largest unit that fits, rounded."""
    if seconds is None:
        return "—"
    delta = seconds if isinstance(seconds, dt.timedelta) else dt.timedelta(seconds=seconds)
    if delta >= dt.timedelta(days=1):
        return plural(delta.days, "jour", "jours")
    return format_timedelta(delta, threshold=1, locale=LOCALE).replace(" ", NBSP)


def since(moment: float | dt.datetime | None, now: float | dt.datetime | None = None) -> str:
    """« depuis 10 jours », « depuis 3 heures », « depuis moins d'une minute »; None is « »."""
    if moment is None:
        return ""
    start = _moment(moment)
    end = _moment(now) if now is not None else dt.datetime.now(dt.timezone.utc)
    elapsed = end - start
    if elapsed < dt.timedelta(minutes=1):
        return "depuis moins d’une minute"
    return "depuis " + duration(elapsed)


def interval(seconds: int) -> str:
    """An expected check-in interval in words: « toutes les 5 minutes », « une fois par jour »."""
    if seconds % 86400 == 0:
        days = seconds // 86400
        return "une fois par jour" if days == 1 else f"tous les {number(days)} jours"
    if seconds % 3600 == 0:
        hours = seconds // 3600
        return "toutes les heures" if hours == 1 else f"toutes les {number(hours)} heures"
    minutes = max(1, round(seconds / 60))
    return "toutes les minutes" if minutes == 1 else f"toutes les {number(minutes)} minutes"


def _days_of(text: str) -> list[int] | None:
    found: list[int] = []
    for part in re.split(r"\s*,\s*", text.strip()):
        ends = [piece.strip().capitalize() for piece in part.split("-")]
        if any(end not in OSM_DAYS for end in ends) or len(ends) > 2:
            return None
        first, last = OSM_DAYS.index(ends[0]), OSM_DAYS.index(ends[-1])
        found += list(range(first, last + 1)) if first <= last else [*range(first, 7), *range(0, last + 1)]
    return found


def _day_span(days: list[int]) -> str:
    """[0..4] → « du lundi au vendredi »; [0] → « le lundi »; [0, 2] → « le lundi et le mercredi »."""
    runs: list[list[int]] = []
    for index in sorted(set(days)):
        if runs and index == runs[-1][-1] + 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    words = []
    for run in runs:
        if len(run) >= 3:
            words.append(f"du {day_name(run[0])} au {day_name(run[-1])}")
        else:
            words += [f"le {day_name(index)}" for index in run]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " et " + words[-1]


def opening_hours(osm: str | None) -> str:
    """« Mo-Fr 09:00-12:00; Sa 10:00-12:00 » → « du lundi au vendredi, de 9 h à 12 h ; le samedi, de 10 h
    à 12 h ». Days with the same hours are grouped. Text not in that simple form is shown as it is."""
    if not osm or not osm.strip():
        return "—"
    by_day: dict[int, tuple[str, ...]] = {}
    for rule in osm.split(";"):
        if not rule.strip():
            continue
        match = _OSM_RULE.match(rule)
        days = _days_of(match.group("days")) if match else None
        ranges = tuple(r.strip() for r in match.group("ranges").split(",")) if match else ()
        if days is None or not ranges or not all(_RANGE.match(r) for r in ranges):
            return osm
        for index in days:
            by_day[index] = ranges
    groups: dict[tuple[str, ...], list[int]] = {}
    for index in sorted(by_day):
        groups.setdefault(by_day[index], []).append(index)
    parts = [f"{_day_span(days)}, " + " et ".join(time_range(r) for r in ranges)
             for ranges, days in sorted(groups.items(), key=lambda item: item[1][0])]
    return f"{NBSP}; ".join(parts)


FILTERS = {
    "nombre": number, "pourcentage": percent, "unite": with_unit, "go": gigabytes, "pluriel": count_of, "accord": agreed,
    "date_heure": date_time, "jour": day, "mois": month, "duree": duration, "depuis": since,
    "interval": interval, "horaires": opening_hours, "when": date_time,
}


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(FILTERS)
