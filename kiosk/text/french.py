"""Dates, times, numbers and plurals written the French way, from Babel's CLDR data.

« jeudi 3 décembre 2026 », « 9 h 30 », « 12 345 », « 2 documents ». Times use the spelled-out
French form (« 9 h 30 », not « 09:30 ») that residents read on posters, with no-break spaces so
a time never splits across two lines.

The few words and symbols these patterns use (day and month names, the number symbols, the plural
rule) are read from Babel once (:func:`words`) and the patterns (« EEEE d MMMM y », « H h mm »,
« #,##0.### ») applied here, so that formatting never needs Babel's data again. This is what lets
the kiosk window drop Babel's 7 MB of French locale data from its own process once the words are
read (``kiosk.window.babel_memory``, issue 17); this module itself never empties any Babel cache,
so other processes that import it (the fleet server's dashboard uses :data:`LOCALE` with Babel)
are unaffected. ``tests/shell/test_french_text.py`` checks every function against Babel's own
formatting.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Callable

from babel import Locale

LOCALE_NAME = "fr_FR"
LOCALE = Locale.parse(LOCALE_NAME)  # for Babel's own functions (the dashboard); its data is read lazily
DAY_KEYS = ("mo", "tu", "we", "th", "fr", "sa", "su")  # the order of kiosk.yaml's opening hours
NBSP = "\u00a0"


@dataclass(frozen=True)
class FrenchWords:
    """What the formatting below needs from CLDR's French, and nothing else."""

    days: tuple[str, ...]     # « lundi » … « dimanche » (format context, wide)
    months: tuple[str, ...]   # « janvier » … « décembre » (format context, wide)
    decimal: str              # « , »
    group: str                # narrow no-break space
    minus: str
    plural_form: Callable[[int | float], str]  # CLDR's plural rule: "one", "many" or "other"


_words: FrenchWords | None = None
_lock = threading.Lock()


def words() -> FrenchWords:
    """CLDR's French words, read from Babel on first use and kept (a few hundred bytes)."""
    global _words
    if _words is None:
        with _lock:
            if _words is None:
                _words = _read_from_babel()
    return _words


def _read_from_babel() -> FrenchWords:
    # A locale object of its own: LOCALE keeps whatever data it loads for the process's life, this
    # one is dropped with its data once the words are copied out.
    locale = Locale.parse(LOCALE_NAME)
    symbols = locale.number_symbols["latn"]
    return FrenchWords(days=tuple(str(locale.days["format"]["wide"][day]) for day in range(7)),
                       months=tuple(str(locale.months["format"]["wide"][month]) for month in range(1, 13)),
                       decimal=str(symbols["decimal"]), group=str(symbols["group"]), minus=str(symbols["minusSign"]),
                       plural_form=locale.plural_form)


def day_name(weekday: int) -> str:
    """0 = lundi ... 6 = dimanche."""
    return words().days[weekday]


def long_date(day: dt.date) -> str:
    """« jeudi 3 décembre 2026 »; the first of the month is « 1er » as French writes it."""
    french = words()
    day_number = "1er" if day.day == 1 else str(day.day)
    return f"{french.days[day.weekday()]} {day_number} {french.months[day.month - 1]} {day.year}"


def clock_time(moment: dt.time) -> str:
    """« 9 h », « 9 h 30 », « 14 h 05 » (no-break spaces inside)."""
    if moment.minute == 0:
        return f"{moment.hour}{NBSP}h"
    return f"{moment.hour}{NBSP}h{NBSP}{moment.minute:02d}"


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
    """« 12 345 », « 2,5 » (French separators; CLDR's decimal pattern « #,##0.### », half-even rounding)."""
    french = words()
    rounded = Decimal(str(value)).quantize(Decimal("0.001"), rounding=ROUND_HALF_EVEN)
    integer, _, fraction = f"{abs(rounded):f}".partition(".")
    fraction = fraction.rstrip("0")
    grouped = f"{int(integer):,}".replace(",", french.group)
    sign = french.minus if rounded.is_signed() else ""  # Babel writes « -0 » for -0.0 and -0.0001
    return sign + grouped + (french.decimal + fraction if fraction else "")


def plural(count: int, one: str, other: str) -> str:
    """« 1 document », « 0 document », « 2 documents » (CLDR's French plural rule: 0 and 1 are singular)."""
    # A whole number is singular exactly when it is 0 or 1 (CLDR's French « one: i = 0,1 »): said here, as
    # Babel's rule evaluation costs a millisecond or more for each call (a staff page says « depuis … »
    # for each of its fifty machines); other numbers (« 1,5 ») still go through the rule.
    if isinstance(count, int) and not isinstance(count, bool):
        singular = count in (0, 1)
    else:
        singular = words().plural_form(count) == "one"
    return f"{number(count)}{NBSP}{one if singular else other}"


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
