"""Dates and times written the French way, for residents: « jeudi 3 décembre 2026 », « 9 h 30 »."""

from __future__ import annotations

import datetime as dt

DAY_NAMES = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTH_NAMES = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
               "septembre", "octobre", "novembre", "décembre")
DAY_KEYS = ("mo", "tu", "we", "th", "fr", "sa", "su")


def long_date(day: dt.date) -> str:
    number = "1er" if day.day == 1 else str(day.day)
    return f"{DAY_NAMES[day.weekday()]} {number} {MONTH_NAMES[day.month - 1]} {day.year}"


NBSP = "\u00a0"  # keeps "9 h 30" on one line


def clock_time(hour: int, minute: int) -> str:
    return f"{hour}{NBSP}h" if minute == 0 else f"{hour}{NBSP}h{NBSP}{minute:02d}"


def time_range(value: str) -> str:
    """'09:30-12:00' -> 'de 9 h 30 à 12 h' (no-break spaces inside each time)."""
    start, end = value.split("-")
    return f"de {clock_time(int(start[:2]), int(start[3:]))} à {clock_time(int(end[:2]), int(end[3:]))}"


def date_and_time(moment: dt.datetime) -> tuple[str, str]:
    return long_date(moment.date()), clock_time(moment.hour, moment.minute)
