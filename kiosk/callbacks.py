"""The hand-over of call-back requests from the shell (``kiosk`` user) to the agent (its own user).

The shell writes each request as one file, ``<request id>.json``, in the ``rappels`` folder of the events
directory the two already share (:mod:`kiosk.events`): written to a temporary name, synced, then renamed,
so the agent never reads half a request. The agent takes each file into its spool (one transaction) and
only then deletes it; a file it cannot read or that is not a valid request is deleted and counted, never
kept (it may hold personal data). The request leaves the spool once the fleet server has it.
"""

from __future__ import annotations

import json
import logging
import os
import time
from pathlib import Path
from typing import Callable

from kiosk.protocol.callback import REQUEST_ID, latest_allowed, validate_callback

log = logging.getLogger(__name__)

FOLDER = "rappels"
MAX_FILE_BYTES = 4096


class CallbackDrop:
    def __init__(self, events_dir: str | os.PathLike) -> None:
        self.directory = Path(events_dir) / FOLDER

    def put(self, request: dict) -> None:
        """Write one request (already valid); raises OSError when it cannot be written."""
        request_id = request["request_id"]
        if not REQUEST_ID.match(request_id):
            raise ValueError("invalid request id")
        self.directory.mkdir(parents=True, exist_ok=True)
        temporary = self.directory / f".{request_id}.tmp"
        data = json.dumps(request, ensure_ascii=False, separators=(",", ":")).encode()
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o660)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(temporary, self.directory / f"{request_id}.json")

    def pending(self) -> list[Path]:
        if not self.directory.is_dir():
            return []
        return sorted(path for path in self.directory.glob("*.json") if not path.name.startswith("."))

    def take(self, store: Callable[[dict], None]) -> tuple[int, int]:
        """Hand each valid request to ``store``, then delete its file: (taken, refused)."""
        taken = refused = 0
        for path in self.pending():
            try:
                with open(path, "rb") as handle:
                    raw = handle.read(MAX_FILE_BYTES + 1)
                request = json.loads(raw) if len(raw) <= MAX_FILE_BYTES else None
            except (OSError, ValueError) as error:
                log.error("a call-back request file could not be read (%s); deleted", type(error).__name__)
                request = None
            problems = validate_callback(request, latest_allowed(time.time())) if request is not None else ["/"]
            if problems or path.stem != request.get("request_id"):
                refused += 1
                log.error("an invalid call-back request file was deleted: %s", problems[:3])
            else:
                store(request)
                taken += 1
            path.unlink(missing_ok=True)
        return taken, refused
