"""Tell a page that is slow to load from a frozen one, and a service that never answers (pure, clock passed in).

The window pings the web process every ``ping_interval_s`` (a trivial script in an isolated world).
- Loaded page: no answer within ``hang_timeout_s`` means frozen (a script stuck in a loop).
- Page still loading (between the start of a main-frame load and its end): the web process may be
  busy for a long time parsing and laying out a heavy page (a 58 MB page was killed while it loaded),
  so it gets ``loading_hang_timeout_s`` instead. A page frozen while loading is still caught then.
- A main-frame load that has not received the server's answer (WebKit's "committed") within
  ``load_timeout_s`` is a service that does not answer: the window stops it and says so.
"""

from __future__ import annotations

from enum import Enum


class PageVerdict(Enum):
    FINE = "fine"
    FROZEN = "frozen"
    NO_ANSWER = "no_answer"


class PageWatch:
    def __init__(self, *, hang_timeout_s: float, loading_hang_timeout_s: float, load_timeout_s: float) -> None:
        self.hang_timeout_s = hang_timeout_s
        self.loading_hang_timeout_s = loading_hang_timeout_s
        self.load_timeout_s = load_timeout_s
        self.ping_sent: float | None = None
        self.load_started: float | None = None   # a main-frame load is under way since then
        self.awaiting_answer = False              # ... and the server has not answered yet

    # What the window saw.
    def started(self, now: float) -> None:
        self.load_started, self.awaiting_answer = now, True

    def committed(self) -> None:
        self.awaiting_answer = False

    def ended(self) -> None:
        """The load finished or failed (or the view was replaced)."""
        self.load_started, self.awaiting_answer = None, False

    def reset(self) -> None:
        self.ended()
        self.ping_sent = None

    def ping(self, now: float) -> bool:
        """A ping is due: True if one should be sent now (none is pending)."""
        if self.ping_sent is not None:
            return False
        self.ping_sent = now
        return True

    def answered(self) -> None:
        self.ping_sent = None

    @property
    def loading(self) -> bool:
        return self.load_started is not None

    # The decision.
    def verdict(self, now: float) -> PageVerdict:
        if self.awaiting_answer and self.load_started is not None and now - self.load_started > self.load_timeout_s:
            return PageVerdict.NO_ANSWER
        if self.ping_sent is not None:
            allowed = self.loading_hang_timeout_s if self.loading else self.hang_timeout_s
            if now - self.ping_sent > allowed:
                return PageVerdict.FROZEN
        return PageVerdict.FINE
