"""Time as a parameter: the real clock, and a fake one tests drive (a simulated day in a second)."""

from __future__ import annotations

import threading
import time


class SystemClock:
    def __init__(self, stop: threading.Event | None = None) -> None:
        self.stop = stop or threading.Event()

    def time(self) -> float:
        return time.time()

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.stop.wait(seconds)


class FakeClock:
    """Sleeping only moves the clock forward."""

    def __init__(self, start: float) -> None:
        self.now = float(start)

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.now += seconds
