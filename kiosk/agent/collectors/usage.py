"""Usage: window events turned into anonymous daily counters (metric, key, count).

Only counts leave the machine: sessions, session-length buckets, tile ids, refused bare host names,
pages printed, idle warnings and resets, crash recoveries, kiosk starts. Never a URL path or query,
never anything typed or shown, never an exact session length.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Iterable

from kiosk.events import Event, EventKind
from kiosk.protocol import session_length_bucket

DayCounters = dict[str, Counter]


def local_day(timestamp: float) -> str:
    return time.strftime("%Y-%m-%d", time.localtime(timestamp))


def count_events(events: Iterable[Event]) -> tuple[DayCounters, dict]:
    """Counters per local day, plus the side facts health samples carry (restarts, last session)."""
    days: DayCounters = {}
    restarts = 0
    last_session_at = None
    for event in events:
        counters = days.setdefault(local_day(event.at), Counter())
        kind = event.kind
        if kind is EventKind.SESSION_STARTED:
            counters[("sessions", "")] += 1
            last_session_at = max(last_session_at or 0, event.at)
        elif kind is EventKind.SESSION_ENDED:
            if event.duration_s is not None:
                counters[("session_length", session_length_bucket(event.duration_s))] += 1
            last_session_at = max(last_session_at or 0, event.at)
        elif kind is EventKind.TILE_OPENED and event.tile_id:
            counters[("tile_opened", event.tile_id)] += 1
        elif kind is EventKind.NAVIGATION_REFUSED and event.host:
            counters[("navigation_refused", event.host)] += 1
        elif kind is EventKind.PAGES_PRINTED and event.pages:
            counters[("pages_printed", "")] += event.pages
        elif kind is EventKind.KIOSK_STARTED:
            counters[("kiosk_started", "")] += 1
            restarts += 1
        elif kind in (EventKind.IDLE_WARNING, EventKind.IDLE_RESET, EventKind.CRASH_RECOVERED):
            counters[(kind.value, "")] += 1
    return ({day: counters for day, counters in days.items() if counters},
            {"kiosk_restarts": restarts, "last_session_at": last_session_at})


def as_record_data(day: str, counters: Counter) -> dict:
    return {"day": day, "counters": [[metric, key, count] for (metric, key), count in sorted(counters.items())]}
