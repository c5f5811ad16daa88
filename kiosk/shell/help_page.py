"""The help page: who to call and whether they can answer now, when the bus comes, the nearest
France services, the printed guides, the town hall's hours."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import Blueprint, render_template

from kiosk.config.models import Contact, OpeningHours
from kiosk.shell.state import shell_state
from kiosk.text.french import DAY_KEYS, clock_time, day_name, long_date, parse_range, relative_day, time_range

blueprint = Blueprint("help_page", __name__)

MAX_BUS_VISITS = 3


@dataclass(frozen=True)
class Availability:
    now: bool
    sentence: str  # « Claire peut vous répondre maintenant, jusqu'à 12 h. » / « Claire répondra lundi à 9 h. »


def _ranges(hours: OpeningHours, day: dt.date) -> list[tuple[dt.time, dt.time]]:
    return sorted(parse_range(value) for value in getattr(hours, DAY_KEYS[day.weekday()]))


def _end_text(end: dt.time) -> str:
    return "minuit" if end == dt.time.max else clock_time(end)


def availability(contact: Contact, now: dt.datetime) -> Availability | None:
    """Whether the contact answers now, else when next (within a week); None without structured hours."""
    if contact.hours is None:
        return None
    name, today, time = contact.first_name, now.date(), now.time()
    for start, end in _ranges(contact.hours, today):
        if start <= time < end:
            return Availability(True, f"{name} peut vous répondre maintenant, jusqu’à {_end_text(end)}.")
    for offset in range(8):
        day = today + dt.timedelta(days=offset)
        for start, _ in _ranges(contact.hours, day):
            if offset == 0 and start <= time:
                continue
            return Availability(False, f"{name} ne peut pas répondre maintenant. "
                                       f"{name} répondra {relative_day(day, today)} à {clock_time(start)}.")
    return None


def upcoming_visits(visits, now: dt.datetime) -> list[dict]:
    """The next bus visits, soonest first; a visit of today counts until it ends."""
    upcoming = []
    for visit in sorted(visits, key=lambda item: (item.date, item.hours)):
        _, end = parse_range(visit.hours)
        if dt.datetime.combine(visit.date, end) > now:
            upcoming.append({"date": long_date(visit.date), "hours": time_range(visit.hours),
                             "place": visit.place, "today": visit.date == now.date()})
    return upcoming[:MAX_BUS_VISITS]


def opening_days(opening_hours: OpeningHours | None) -> list[tuple[str, str]]:
    if opening_hours is None:
        return []
    days = []
    for index, key in enumerate(DAY_KEYS):
        ranges = getattr(opening_hours, key)
        if ranges:
            days.append((day_name(index).capitalize(), " et ".join(time_range(value) for value in ranges)))
    return days


@blueprint.get("/aide")
def show():
    config = shell_state().config
    now = dt.datetime.now()
    mediator = config.help.mediator
    return render_template(
        "help.html", help=config.help, visits=upcoming_visits(config.help.bus_visits, now),
        mediator_now=availability(mediator, now), mediator_days=opening_days(mediator.hours),
        opening_days=opening_days(config.opening_hours))
