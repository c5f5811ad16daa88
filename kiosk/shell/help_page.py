"""The help page: who to call, when the bus comes, the nearest France services, the printed guides."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, render_template

from kiosk.shell.french_dates import DAY_KEYS, DAY_NAMES, long_date, time_range
from kiosk.shell.state import shell_state

blueprint = Blueprint("help_page", __name__)

MAX_BUS_VISITS = 3


def upcoming_visits(visits, now: dt.datetime) -> list[dict]:
    """The next bus visits, soonest first; a visit of today counts until it ends."""
    upcoming = []
    for visit in sorted(visits, key=lambda item: (item.date, item.hours)):
        end = dt.datetime.combine(visit.date, dt.time(0)) + dt.timedelta(
            hours=int(visit.hours[6:8]), minutes=int(visit.hours[9:11]))
        if end > now:
            upcoming.append({"date": long_date(visit.date), "hours": time_range(visit.hours),
                             "place": visit.place, "today": visit.date == now.date()})
    return upcoming[:MAX_BUS_VISITS]


def opening_days(opening_hours) -> list[tuple[str, str]]:
    days = []
    for key, name in zip(DAY_KEYS, DAY_NAMES):
        ranges = getattr(opening_hours, key)
        if ranges:
            days.append((name.capitalize(), " et ".join(time_range(value) for value in ranges)))
    return days


@blueprint.get("/aide")
def show():
    config = shell_state().config
    return render_template(
        "help.html", help=config.help, visits=upcoming_visits(config.help.bus_visits, dt.datetime.now()),
        opening_days=opening_days(config.opening_hours))
