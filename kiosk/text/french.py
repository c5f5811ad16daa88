"""Dates, times, numbers and plurals written the French way, through Babel (CLDR data).

« jeudi 3 décembre 2026 », « 9 h 30 », « 12 345 », « 2 documents ». Times use the spelled-out
French form (« 9 h 30 », not « 09:30 ») that residents read on posters, with no-break spaces so
a time never splits across two lines.
"""

from __future__ import annotations

import datetime as dt

from babel import Locale
from babel.dates import format_date, format_time
from babel.numbers import format_decimal

LOCALE = Locale.parse("fr_FR")
DAY_KEYS = ("mo", "tu", "we", "th", "fr", "sa", "su")  # the order of kiosk.yaml's opening hours
NBSP = "\u00a0"


def day_name(weekday: int) -> str:
    """0 = lundi ... 6 = dimanche."""
    return LOCALE.days["format"]["wide"][weekday]


def long_date(day: dt.date) -> str:
    """« jeudi 3 décembre 2026 »; the first of the month is « 1er » as French writes it."""
    pattern = "EEEE '1er' MMMM y" if day.day == 1 else "EEEE d MMMM y"
    return format_date(day, pattern, locale=LOCALE)


def clock_time(moment: dt.time) -> str:
    """« 9 h », « 9 h 30 », « 14 h 05 » (no-break spaces inside)."""
    pattern = "H' h'" if moment.minute == 0 else "H' h 'mm"
    return format_time(moment, pattern, locale=LOCALE).replace(" ", NBSP)


def parse_range(value: str) -> tuple[dt.time, dt.time]:
    """'09:30-12:00' (already validated by the configuration) -> (09:30, 12:00); '24:00' is midnight."""
    start, end = value.split("-")
    return _parse_time(start), _parse_time(end)


def _parse_time(text: str) -> dt.time:
    hour, minute = int(text[:2]), int(text[3:5])
    return dt.time.max if hour == 24 else dt.time(hour, minute)


def time_range(value: str) -> str:
    """'09:30-12:00' -> « de 9 h 30 à 12 h »."""
    start, end = parse_range(value)
    end_text = "minuit" if end == dt.time.max else clock_time(end)
    return f"de {clock_time(start)} à {end_text}"


def date_and_time(moment: dt.datetime) -> tuple[str, str]:
    return long_date(moment.date()), clock_time(moment.time())


def number(value: int | float) -> str:
    """« 12 345 », « 2,5 » (French separators)."""
    return format_decimal(value, locale=LOCALE)


def plural(count: int, one: str, other: str) -> str:
    """« 1 document », « 0 document », « 2 documents » (CLDR's French plural rule: 0 and 1 are singular)."""
    word = one if LOCALE.plural_form(count) == "one" else other
    return f"{number(count)}{NBSP}{word}"


def relative_day(day: dt.date, today: dt.date) -> str:
    """« aujourd'hui », « demain », « lundi » (within a week), else the long date."""
    delta = (day - today).days
    if delta == 0:
        return "aujourd’hui"
    if delta == 1:
        return "demain"
    if 1 < delta < 7:
        return day_name(day.weekday())
    return long_date(day)
