"""The assistance relay's memory: the latest frame of each running session, the mediator's points and
messages waiting for the kiosk, and when each side was last heard of. Nothing here is ever written to
disk, and a session's memory is dropped the moment it ends.

The relay also remembers which machines have a request waiting for their answer (:meth:`Relay.waiting`):
every idle kiosk polls about once a second, and at fleet scale those polls must read this memory, not
the store. The memory is read again from the store by one query for the whole fleet, at most once per
``WAITING_TTL_S`` in the process (at once after a change made in this process); the store is written
only when something changes (a key handed out, a request left unanswered).

Both sides only ever open connections to the server (the kiosk through NAT or 4G), so each side waits
in a bounded long-poll: the kiosk for the mediator's events, the mediator's page for a newer frame.
The relay must therefore run in ONE process (a gthread gunicorn of its own, or the only worker): the
dashboard's request and the kiosk's frames have to meet in the same memory. The lifecycle (asked,
started, ended) is in the store (:mod:`provisioning.fleet.assist_log`), so any process can end one.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

MAX_EVENTS_KEPT = 50          # points and messages not yet fetched by the kiosk (oldest dropped)
VIEWER_GONE_S = 6.0           # the mediator's page stopped asking for frames: she left
KIOSK_GONE_S = 20.0           # the kiosk stopped asking for events: the link is down
WAITING_TTL_S = 1.0           # a request made in another process reaches the polls within this delay


@dataclass
class Live:
    started_at: float
    frame: bytes = b""
    frame_type: str = ""
    frame_seq: int = 0
    frame_size: tuple[int, int] = (0, 0)
    events: list = field(default_factory=list)     # [(seq, dict)]
    event_seq: int = 0
    viewer_seen_at: float = 0.0
    kiosk_seen_at: float = 0.0
    mediator_active_at: float = 0.0
    ended: str | None = None


class Relay:
    """Thread-safe; one per app (:func:`relay`). ``clock`` is a parameter for tests."""

    def __init__(self, clock=time.monotonic) -> None:
        self.clock = clock
        self.changed = threading.Condition()
        self.sessions: dict[int, Live] = {}
        self.requests_generation = 0   # bumped on each new request: wakes the kiosks' polls
        self.closing = False           # the server is stopping: polls answer at once
        self.polls = 0                 # kiosks' polls being served now
        self._waiting: dict[int, object] = {}   # device id -> its request waiting for an answer
        self._waiting_read_at: float | None = None
        self._reading = threading.Lock()       # one thread reads the store for all the polls

    # -- lifecycle ----------------------------------------------------------------------------------
    def new_request(self) -> None:
        with self.changed:
            self.requests_generation += 1
            self._waiting_read_at = None
            self.changed.notify_all()

    def forget_waiting(self) -> None:
        """The waiting requests changed in this process: the next poll reads them again."""
        with self.changed:
            self._waiting_read_at = None

    def waiting(self, device_id: int, read_all) -> object | None:
        """The request waiting for ``device_id``'s answer, or None, from memory. ``read_all()`` returns
        {device id: request} from the store; it is called when the memory is older than ``WAITING_TTL_S``
        (by one poll; the others meanwhile use the memory as it is)."""
        with self.changed:
            fresh = self._waiting_read_at is not None and self.clock() - self._waiting_read_at < WAITING_TTL_S
            if fresh or self.closing:
                return self._waiting.get(device_id)
        if self._reading.acquire(blocking=self._waiting_read_at is None):
            try:
                read_at = self.clock()
                found = read_all()
                with self.changed:
                    self._waiting, self._waiting_read_at = found, read_at
            finally:
                self._reading.release()
        with self.changed:
            return self._waiting.get(device_id)

    def open(self, session_id: int) -> Live:
        now = self.clock()
        with self.changed:
            live = self.sessions.get(session_id)
            if live is None:
                live = self.sessions[session_id] = Live(now, viewer_seen_at=now, kiosk_seen_at=now,
                                                        mediator_active_at=now)
            self.changed.notify_all()
            return live

    def close(self, session_id: int, reason: str) -> None:
        with self.changed:
            live = self.sessions.pop(session_id, None)
            if live is not None:
                live.ended = reason
                live.frame = b""
                live.events.clear()
            self.changed.notify_all()

    def live(self, session_id: int) -> Live | None:
        with self.changed:
            return self.sessions.get(session_id)

    def overdue(self, session_id: int, idle_s: float) -> str | None:
        """Why a running session must end now (a side gone, inactivity), or None."""
        now = self.clock()
        with self.changed:
            live = self.sessions.get(session_id)
            if live is None:
                return None
            if now - live.viewer_seen_at > VIEWER_GONE_S:
                return "mediator_left"
            if now - live.kiosk_seen_at > KIOSK_GONE_S:
                return "unreachable"
            if now - live.mediator_active_at > idle_s:
                return "idle"
            return None

    # -- kiosk side ---------------------------------------------------------------------------------
    def put_frame(self, session_id: int, image: bytes, image_type: str, size: tuple[int, int]) -> bool:
        with self.changed:
            live = self.sessions.get(session_id)
            if live is None:
                return False
            live.frame, live.frame_type, live.frame_size = image, image_type, size
            live.frame_seq += 1
            live.kiosk_seen_at = self.clock()
            self.changed.notify_all()
            return True

    def wait_events(self, session_id: int, after: int, timeout_s: float) -> tuple[list[dict], int, bool]:
        """The events after ``after`` (waiting up to ``timeout_s`` for one): (events, last seq, running)."""
        deadline = self.clock() + timeout_s
        with self.changed:
            while True:
                live = self.sessions.get(session_id)
                if live is None:
                    return [], after, False
                live.kiosk_seen_at = self.clock()
                fresh = [event for seq, event in live.events if seq > after]
                remaining = deadline - self.clock()
                if fresh or remaining <= 0:
                    return fresh, live.event_seq, True
                self.changed.wait(min(remaining, 1.0))

    # -- mediator side ------------------------------------------------------------------------------
    def add_event(self, session_id: int, event: dict) -> bool:
        with self.changed:
            live = self.sessions.get(session_id)
            if live is None:
                return False
            live.event_seq += 1
            live.events.append((live.event_seq, event))
            del live.events[:-MAX_EVENTS_KEPT]
            live.mediator_active_at = live.viewer_seen_at = self.clock()
            self.changed.notify_all()
            return True

    def wait_frame(self, session_id: int, after: int, timeout_s: float) -> tuple[bytes, str, int, bool]:
        """The latest frame if newer than ``after`` (waiting up to ``timeout_s``): (image, type, seq, running)."""
        deadline = self.clock() + timeout_s
        with self.changed:
            while True:
                live = self.sessions.get(session_id)
                if live is None:
                    return b"", "", after, False
                live.viewer_seen_at = self.clock()
                remaining = deadline - self.clock()
                if live.frame_seq > after or remaining <= 0:
                    fresh = live.frame_seq > after
                    return (live.frame if fresh else b""), live.frame_type, live.frame_seq, True
                self.changed.wait(min(remaining, 1.0))

    def wait_requests(self, generation: int, timeout_s: float) -> int:
        """Wait until a request is made in this process (or ``timeout_s``); the current generation."""
        with self.changed:
            if self.requests_generation == generation and not self.closing:
                self.changed.wait(timeout_s)
            return self.requests_generation

    def stop(self, wait_s: float = 3.0) -> None:
        """The server is stopping: every poll answers at once; waits (up to ``wait_s``) until none is
        being served, so that none touches the store after the caller released it."""
        deadline = self.clock() + wait_s
        with self.changed:
            self.closing = True
            self.changed.notify_all()
            while self.polls and self.clock() < deadline:
                self.changed.wait(0.05)


def relay():
    """The relay of the current app (one per app, so two apps in one process never share one)."""
    from flask import current_app
    return current_app.extensions["assist_relay"]


def init_app(app) -> None:
    app.extensions.setdefault("assist_relay", Relay())
