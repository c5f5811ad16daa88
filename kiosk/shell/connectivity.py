"""Is the Internet reachable? A TCP connection to a probe target, cached, refreshed in the background.

Pages never wait on the network: they read the last known answer. Only the very first question
(before any probe ran) waits for one probe, and never much longer than its short timeout.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from dataclasses import dataclass
from typing import Callable

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProbeResult:
    online: bool
    checked_at: float  # time.monotonic() of the probe
    checked_wall: float  # time.time() of the probe


class ConnectivityProbe:
    def __init__(self, host: str, port: int, *, timeout_s: float = 2.0, cache_s: float = 10.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.host = host
        self.port = port
        self.timeout_s = timeout_s
        self.cache_s = cache_s
        self._clock = clock
        self._lock = threading.Lock()
        self._result: ProbeResult | None = None
        self._running: threading.Event | None = None
        self._last_error: str | None = None

    def probe_once(self) -> ProbeResult:
        """Run one probe now (blocking, at most about ``timeout_s``) and remember its result."""
        try:
            with socket.create_connection((self.host, self.port), timeout=self.timeout_s):
                online = True
        except OSError as error:
            online = False
            message = f"{type(error).__name__}: {error}"
            if message != self._last_error:  # log each new kind of failure once, not every probe
                log.info("connectivity probe to %s:%d failed: %s", self.host, self.port, message)
                self._last_error = message
        result = ProbeResult(online=online, checked_at=self._clock(), checked_wall=time.time())
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
                return ProbeResult(online=False, checked_at=self._clock(), checked_wall=time.time())
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
