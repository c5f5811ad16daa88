"""Talking to the fleet server: enrolment, then gzip-compressed check-ins with the device token.

Outbound only (town halls sit behind NAT); HTTPS, or plain HTTP to a loopback address for tests and
the demo. Uses the standard library only (http.client, ssl, gzip) to keep the agent small.

No connection outlives an upload (the next one is minutes away), so each upload opens a new TLS
connection; it offers the TLS session of the previous one, which the server resumes (no certificate
sent nor checked again, no signature): about half of the server's handshake work, for nothing but
keeping the session object in memory.
"""

from __future__ import annotations

import gzip
import http.client
import json
import logging
import os
import ssl
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import kiosk
from kiosk.protocol import CHECKIN_PATH, ENROL_PATH, PROTOCOL_VERSION

log = logging.getLogger("kiosk.agent")
TIMEOUT_S = 30


class ServerUnreachable(Exception):
    """No answer (network down, server down, timeout, 5xx): try again later."""


@dataclass
class Answer:
    status: int
    body: dict


@dataclass
class Credentials:
    token: str
    seq_base: int


class ResumingHTTPSConnection(http.client.HTTPSConnection):
    """An HTTPS connection that offers ``session`` (an ``ssl.SSLSession`` from an earlier connection to
    the same server, or None) and remembers the TLS socket, whose session ``latest_session()`` reads
    once an answer has begun (TLS 1.3 sends its session tickets after the handshake)."""

    def __init__(self, host: str, port: int, *, timeout: float, context: ssl.SSLContext,
                 session: ssl.SSLSession | None = None) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self.offered_session = session
        self.tls_socket: ssl.SSLSocket | None = None

    def connect(self) -> None:
        http.client.HTTPConnection.connect(self)  # TCP only (no proxy tunnel here)
        self.sock = self.tls_socket = self._context.wrap_socket(self.sock, server_hostname=self.host,
                                                                session=self.offered_session)

    def latest_session(self) -> ssl.SSLSession | None:
        """The session to offer next time; call after getresponse(), before reading the whole body
        (an answer that closes the connection closes the TLS socket once read)."""
        try:
            return self.tls_socket.session if self.tls_socket is not None else None
        except (OSError, ValueError):
            return None


class FleetClient:
    def __init__(self, fleet_url: str, ca_file: str | os.PathLike | None = None) -> None:
        parts = urlsplit(fleet_url)
        self.https = parts.scheme == "https"
        self.host = parts.hostname
        self.port = parts.port or (443 if self.https else 80)
        self.prefix = parts.path.rstrip("/")
        self.context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None) if self.https else None
        self.connection: http.client.HTTPConnection | None = None
        self.tls_session: ssl.SSLSession | None = None  # offered to the next connection (resumption)
        self.user_agent = f"kiosk-agent/{kiosk.__version__} (protocol {PROTOCOL_VERSION})"

    def _connection(self) -> http.client.HTTPConnection:
        if self.connection is None:
            if self.https:
                self.connection = ResumingHTTPSConnection(self.host, self.port, timeout=TIMEOUT_S,
                                                          context=self.context, session=self.tls_session)
            else:
                self.connection = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT_S)
        return self.connection

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def _exchange(self, method: str, path: str, headers: dict[str, str], body: bytes | None = None,
                  max_bytes: int | None = None) -> tuple[int, dict[str, str], bytes]:
        """One request on the kept connection: status, headers (lower-case names) and the body, at most
        ``max_bytes`` + 1 bytes of it when given (a longer one is cut, and the connection dropped)."""
        try:
            connection = self._connection()
            connection.request(method, self.prefix + path, body=body, headers=headers)
            response = connection.getresponse()
            if isinstance(connection, ResumingHTTPSConnection):
                self.tls_session = connection.latest_session() or self.tls_session
            raw = response.read() if max_bytes is None else response.read(max_bytes + 1)
            status, answer_headers = response.status, {name.lower(): value for name, value in response.getheaders()}
            if response.will_close or (max_bytes is not None and len(raw) > max_bytes):
                self.close()
        except (OSError, http.client.HTTPException) as error:
            self.close()
            raise ServerUnreachable(f"{type(error).__name__}: {error}") from None
        if status >= 500 or status in (408, 429):
            raise ServerUnreachable(f"HTTP {status}")
        return status, answer_headers, raw

    def post(self, path: str, document: dict, token: str | None = None) -> Answer:
        body = gzip.compress(json.dumps(document, separators=(",", ":")).encode(), compresslevel=6)
        headers = {"Content-Type": "application/json", "Content-Encoding": "gzip", "User-Agent": self.user_agent}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        status, _headers, raw = self._exchange("POST", path, headers, body)
        try:
            parsed = json.loads(raw)
        except ValueError:
            raise ServerUnreachable(f"HTTP {status} with a non-JSON body (a proxy?)") from None
        return Answer(status, parsed if isinstance(parsed, dict) else {})

    def get(self, path: str, token: str, headers: dict[str, str] | None = None,
            max_bytes: int = 1024 * 1024) -> tuple[int, dict[str, str], bytes]:
        """A GET with the device token: status, headers (lower-case names) and at most ``max_bytes`` of body
        (a longer one comes back cut, which the caller's checks refuse)."""
        headers = {"User-Agent": self.user_agent, "Authorization": f"Bearer {token}", **(headers or {})}
        return self._exchange("GET", path, headers, max_bytes=max_bytes)

    def enrol(self, code: str, asset_tag: str, commune_insee: str) -> Answer:
        return self.post(ENROL_PATH, {"protocol": PROTOCOL_VERSION, "code": code, "asset_tag": asset_tag,
                                      "commune_insee": commune_insee})

    def checkin(self, token: str, records: list[dict], now: float) -> Answer:
        return self.post(CHECKIN_PATH, {"protocol": PROTOCOL_VERSION, "sent_at": now, "records": records}, token)


def load_credentials(path: Path) -> Credentials | None:
    try:
        data = json.loads(path.read_text())
        return Credentials(str(data["token"]), int(data["seq_base"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as error:
        log.error("the token file %s is unreadable (%s): the machine must be enrolled again", path, error)
        return None


def save_credentials(path: Path, credentials: Credentials) -> None:
    """Written whole or not at all (temporary file, fsync, rename), readable by the agent only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, json.dumps({"token": credentials.token, "seq_base": credentials.seq_base,
                                 "saved_at": time.time()}).encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.rename(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
