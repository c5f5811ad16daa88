"""The window's connection to the assistance relay, for one session, with that session's key only.

Outbound only (http.client, HTTPS with the fleet's CA, or plain HTTP to loopback in tests). Each
instance keeps one connection and is used by one thread (the frame sender and the events listener
each have their own). A 410 means the session ended on the server: :class:`SessionEnded`.
"""

from __future__ import annotations

import http.client
import json
import ssl
from urllib.parse import urlsplit

from kiosk.protocol.assist import session_path


class RelayUnreachable(Exception):
    """No answer, a timeout or a 5xx: the link may come back."""


class SessionEnded(Exception):
    """The server says the session is over (or refuses our key): stop sharing."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class RelayClient:
    def __init__(self, relay_url: str, session_id: int, key: str, ca_file: str | None = None,
                 timeout_s: float = 30.0) -> None:
        parts = urlsplit(relay_url)
        self.https = parts.scheme == "https"
        self.host, self.port = parts.hostname, parts.port or (443 if self.https else 80)
        self.prefix = parts.path.rstrip("/")
        self.context = ssl.create_default_context(cafile=ca_file) if self.https else None
        self.session_id, self.key, self.timeout_s = session_id, key, timeout_s
        self.connection: http.client.HTTPConnection | None = None

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def _request(self, method: str, what: str, body: bytes | None = None, content_type: str | None = None,
                 timeout_s: float | None = None) -> dict:
        if self.connection is None:
            if self.https:
                self.connection = http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout_s,
                                                              context=self.context)
            else:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout_s)
        headers = {"Authorization": f"Bearer {self.key}"}
        if content_type:
            headers["Content-Type"] = content_type
        try:
            self.connection.timeout = timeout_s or self.timeout_s
            if self.connection.sock is not None:
                self.connection.sock.settimeout(self.connection.timeout)
            self.connection.request(method, self.prefix + session_path(self.session_id, what), body=body,
                                    headers=headers)
            response = self.connection.getresponse()
            raw = response.read(64 * 1024)
            if response.will_close:
                self.close()
        except (OSError, http.client.HTTPException) as error:
            self.close()
            raise RelayUnreachable(f"{type(error).__name__}: {error}") from None
        if response.status >= 500 or response.status in (408, 429):
            raise RelayUnreachable(f"HTTP {response.status}")
        try:
            document = json.loads(raw)
        except ValueError:
            raise RelayUnreachable(f"HTTP {response.status} with a non-JSON body") from None
        if response.status in (401, 410):
            errors = document.get("errors") if isinstance(document, dict) else None
            raise SessionEnded(str(errors[0]) if isinstance(errors, list) and errors else "ended")
        if response.status != 200 or not isinstance(document, dict):
            raise SessionEnded(f"refused: HTTP {response.status}")
        return document

    def answer(self, accept: bool) -> None:
        self._request("POST", "answer", json.dumps({"accept": accept}).encode(), "application/json")

    def send_frame(self, image: bytes, image_type: str) -> None:
        self._request("POST", "frame", image, image_type)

    def events(self, after: int, wait_s: float) -> tuple[list[dict], int]:
        document = self._request("GET", f"events?after={int(after)}&wait={wait_s:g}", timeout_s=wait_s + 15)
        events = document.get("events")
        last = document.get("last")
        return (events if isinstance(events, list) else []), (last if isinstance(last, int) else after)

    def end(self, reason: str) -> None:
        self._request("POST", "end", json.dumps({"reason": reason}).encode(), "application/json")
