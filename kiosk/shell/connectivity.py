"""Is the Internet reachable, and freely? An HTTP check whose answer is known in advance, cached,
refreshed in the background.

Like Debian's NetworkManager connectivity check, the probe fetches a fixed plain-HTTP address and
compares the answer with the one expected:
- the expected answer (status 200, the expected body): ``online``;
- any other answer (a redirect, a login page, another body, another status): ``portal`` — a captive
  portal or a 4G router is answering in the Internet's place and asks for something;
- no answer at all (no route, name not found, refused, timeout): ``offline``.
Redirects are never followed and only the first bytes of the body are read.

Pages never wait on the network: they read the last known answer. Only the very first question
(before any probe ran) waits for one probe, and never much longer than its short timeout. A page
that must be right *now* (the error page shown after a failed load) calls :meth:`probe_once`.
"""

from __future__ import annotations

import http.client
import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable

log = logging.getLogger(__name__)

ONLINE, PORTAL, OFFLINE = "online", "portal", "offline"
MAX_ANSWER_BYTES = 4096


@dataclass(frozen=True)
class ProbeResult:
    state: str  # ONLINE, PORTAL or OFFLINE
    checked_at: float  # time.monotonic() of the probe
    checked_wall: float  # time.time() of the probe

    @property
    def online(self) -> bool:
        return self.state == ONLINE


class ConnectivityProbe:
    def __init__(self, host: str, port: int, *, path: str = "/", answer: str = "", timeout_s: float = 2.0,
                 cache_s: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        """Check ``http://host:port/path``; ``answer`` is the body expected (surrounding white space ignored)."""
        self.host, self.port, self.path, self.answer = host, port, path, answer.strip()
        self.timeout_s = timeout_s
        self.cache_s = cache_s
        self._clock = clock
        self._lock = threading.Lock()
        self._result: ProbeResult | None = None
        self._running: threading.Event | None = None
        self._last_problem: str | None = None

    def check(self) -> tuple[str, str | None]:
        """One HTTP check (blocking, bounded by ``timeout_s`` per step): the state and, if not
        online, why (for the log)."""
        connection = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout_s)
        try:
            connection.request("GET", self.path, headers={"Cache-Control": "no-cache", "Connection": "close",
                                                          "User-Agent": "mairie-kiosk connectivity check"})
            response = connection.getresponse()
            body = response.read(MAX_ANSWER_BYTES)
        except (OSError, http.client.HTTPException) as error:
            return OFFLINE, f"{type(error).__name__}: {error}"
        finally:
            connection.close()
        if response.status != 200:
            return PORTAL, f"HTTP {response.status} (location {response.getheader('Location', '-')!r})"
        if body.decode("utf-8", "replace").strip() != self.answer:
            return PORTAL, f"HTTP 200 with another body ({len(body)} bytes)"
        return ONLINE, None

    def probe_once(self) -> ProbeResult:
        """Run one check now (blocking, a few times ``timeout_s`` at most) and remember its result."""
        state, problem = self.check()
        if problem != self._last_problem:  # log each new kind of failure once, not every probe
            if problem:
                log.info("connectivity check of %s:%d%s: %s (%s)", self.host, self.port, self.path, state, problem)
            self._last_problem = problem
        result = ProbeResult(state=state, checked_at=self._clock(), checked_wall=time.time())
        with self._lock:
            self._result = result
        return result

    def status(self) -> ProbeResult:
        """The last known result; starts a background refresh when it is older than ``cache_s``.

        Before any result exists, waits for the first probe a little longer than its timeout (name
        resolution is not bounded by the socket timeout); if it is still running, answers "offline"
        for now without remembering it.
        """
        with self._lock:
            result = self._result
        if result is None:
            self._refresh_in_background().wait(self.timeout_s + 0.5)
            with self._lock:
                result = self._result
            if result is None:
                return ProbeResult(state=OFFLINE, checked_at=self._clock(), checked_wall=time.time())
            return result
        if self._clock() - result.checked_at >= self.cache_s:
            self._refresh_in_background()
        return result

    def is_online(self) -> bool:
        return self.status().online

    def _refresh_in_background(self) -> threading.Event:
        """Start a probe unless one is running; returns the event set when that probe ends."""
        with self._lock:
            if self._running is not None:
                return self._running
            done = self._running = threading.Event()

        def run() -> None:
            try:
                self.probe_once()
            finally:
                with self._lock:
                    self._running = None
                done.set()

        threading.Thread(target=run, name="connectivity-probe", daemon=True).start()
        return done
