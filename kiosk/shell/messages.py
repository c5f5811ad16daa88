"""The staff's messages on the kiosk (issue 12): a calm banner at the top of every shell page.

The agent writes the banners in force to a file (``messages_file`` in the shell's settings; ``kiosk run
--bundles DIR`` uses ``DIR/messages.json``). The shell reads it again only when it changed (its
modification time and size), drops any whose end date has passed (so a kiosk offline since keeps no
stale message), and the base template shows them above the page's content, in its own part of the
layout that no page content covers; plain HTML, large text that wraps, no script.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from pathlib import Path

from flask import Flask

from kiosk.shell.state import shell_state

log = logging.getLogger(__name__)
MAX_MESSAGES = 5
MAX_CHARS = 280
MAX_FILE_BYTES = 64 * 1024


class MessageFile:
    """The banners in a file the agent rewrites whole; read again only when it changed."""

    def __init__(self, path: str | Path | None, clock=time.time) -> None:
        self.path = Path(path) if path else None
        self.clock = clock
        self._lock = threading.Lock()
        self._seen: tuple | None = None
        self._messages: list[dict] = []

    def _load(self) -> list[dict]:
        try:
            raw = self.path.read_bytes()[:MAX_FILE_BYTES + 1]
            document = json.loads(raw) if len(raw) <= MAX_FILE_BYTES else []
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as error:
            log.error("the messages file %s is unreadable (%s); no banner shown", self.path, error)
            return []
        messages = []
        for item in document[:MAX_MESSAGES] if isinstance(document, list) else []:
            if (isinstance(item, dict) and isinstance(item.get("text"), str) and 0 < len(item["text"]) <= MAX_CHARS
                    and isinstance(item.get("ends_at"), (int, float)) and math.isfinite(item["ends_at"])):
                messages.append({"text": item["text"], "ends_at": float(item["ends_at"])})
        return messages

    def current(self) -> list[dict]:
        """The banners whose end date has not passed."""
        if self.path is None:
            return []
        try:
            stat = self.path.stat()
            seen = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        except OSError:
            seen = None
        with self._lock:
            if seen != self._seen:
                self._messages = self._load() if seen is not None else []
                self._seen = seen
            messages = self._messages
        now = self.clock()
        return [message for message in messages if message["ends_at"] > now]


def init_app(app: Flask) -> None:
    messages = MessageFile(shell_state(app).settings.messages_file or None)
    app.extensions["kiosk_messages"] = messages

    @app.context_processor
    def banner_messages() -> dict:
        return {"staff_messages": messages.current()}
