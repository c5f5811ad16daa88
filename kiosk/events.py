"""The one channel from the window layer to the telemetry agent.

The window (running as the ``kiosk`` user) emits :class:`Event` objects with :meth:`EventLog.emit`;
the agent (its own user, sharing a group with the kiosk) takes them with :meth:`EventLog.take`.
Events are appended as JSON lines to ``current.jsonl`` in a shared directory. ``take`` renames that
file out of the way (atomic), waits for any writer still holding it, reads it, and hands the events
over; the file is removed only once the consumer has stored them, so a crash loses nothing.

By construction nothing here can carry a URL path, a query or anything a resident typed or saw:
an event holds a kind, a time, and at most a tile id, a bare host name, a duration and a page count,
each validated on the way in *and* on the way out.
"""

from __future__ import annotations

import enum
import fcntl
import json
import logging
import os
import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable, Iterator

log = logging.getLogger(__name__)

TILE_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
HOST_PATTERN = re.compile(r"^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?)*$")

CURRENT_FILE = "current.jsonl"
TAKEN_PREFIX = "taken-"


class EventKind(str, enum.Enum):
    KIOSK_STARTED = "kiosk_started"
    SESSION_STARTED = "session_started"
    SESSION_ENDED = "session_ended"
    TILE_OPENED = "tile_opened"
    NAVIGATION_REFUSED = "navigation_refused"
    PAGES_PRINTED = "pages_printed"
    IDLE_WARNING = "idle_warning"
    IDLE_RESET = "idle_reset"
    CRASH_RECOVERED = "crash_recovered"


class InvalidEvent(ValueError):
    """An event that would carry something it must not (a path, a query, free text...)."""


@dataclass(frozen=True)
class Event:
    kind: EventKind
    at: float
    tile_id: str | None = None
    host: str | None = None
    duration_s: float | None = None
    pages: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", EventKind(self.kind))
        if not isinstance(self.at, (int, float)) or self.at <= 0:
            raise InvalidEvent(f"at must be a positive timestamp, not {self.at!r}")
        if self.tile_id is not None and not TILE_ID_PATTERN.match(str(self.tile_id)):
            raise InvalidEvent(f"tile_id {self.tile_id!r} is not a tile identifier")
        if self.host is not None and not HOST_PATTERN.match(str(self.host)):
            raise InvalidEvent("host must be a bare host name (no scheme, port, path or query)")
        if self.duration_s is not None and not (0 <= float(self.duration_s) < 86400 * 7):
            raise InvalidEvent(f"duration_s {self.duration_s!r} is out of range")
        if self.pages is not None and not (isinstance(self.pages, int) and 0 < self.pages < 10000):
            raise InvalidEvent(f"pages {self.pages!r} is out of range")

    @classmethod
    def now(cls, kind: EventKind | str, **fields) -> "Event":
        return cls(kind=EventKind(kind), at=time.time(), **fields)

    def to_json(self) -> str:
        data = {k: v for k, v in asdict(self).items() if v is not None}
        data["kind"] = self.kind.value
        return json.dumps(data, separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, line: str) -> "Event":
        data = json.loads(line)
        if not isinstance(data, dict):
            raise InvalidEvent("an event line must be a JSON object")
        unknown = set(data) - {"kind", "at", "tile_id", "host", "duration_s", "pages"}
        if unknown:
            raise InvalidEvent(f"unknown event fields: {sorted(unknown)}")
        return cls(**data)


class EventLog:
    """Append-only event files in ``directory``, shared by the window (writer) and the agent (reader)."""

    def __init__(self, directory: str | os.PathLike) -> None:
        self.directory = Path(directory)

    def emit(self, event: Event) -> None:
        """Append one event; never raises on I/O trouble (the kiosk must keep working), but logs it."""
        line = (event.to_json() + "\n").encode()
        path = self.directory / CURRENT_FILE
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            for _ in range(5):
                fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o660)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                    # The reader may have renamed the file between our open and our lock:
                    # then write to the new current file instead.
                    try:
                        same = os.fstat(fd).st_ino == os.stat(path).st_ino
                    except FileNotFoundError:
                        same = False
                    if same:
                        os.write(fd, line)
                        return
                finally:
                    os.close(fd)
            log.error("could not append an event to %s after 5 attempts", path)
        except OSError as error:
            log.error("could not record a %s event in %s: %s", event.kind.value, path, error)

    def take(self, store: Callable[[list[Event]], None]) -> int:
        """Hand every pending event to ``store``; delete them only after ``store`` returned.

        Lines that are not valid events are logged and dropped (they can only come from a bug or
        tampering). Returns the number of events stored.
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        current = self.directory / CURRENT_FILE
        if current.exists():
            taken = self.directory / f"{TAKEN_PREFIX}{time.time_ns()}.jsonl"
            try:
                os.rename(current, taken)
            except FileNotFoundError:
                pass
        count = 0
        for path in sorted(self.directory.glob(f"{TAKEN_PREFIX}*.jsonl")):
            events = list(self._read(path))
            if events:
                store(events)
                count += len(events)
            path.unlink()
        return count

    def _read(self, path: Path) -> Iterator[Event]:
        with open(path, "rb") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)  # wait for a writer that opened before the rename
            data = handle.read()
        for number, raw in enumerate(data.splitlines(), start=1):
            if not raw.strip():
                continue
            try:
                yield Event.from_json(raw.decode())
            except (ValueError, TypeError, UnicodeDecodeError) as error:
                # A torn last line after a power cut is the expected case here.
                log.warning("dropped an unreadable event at %s:%d: %s", path.name, number, error)
