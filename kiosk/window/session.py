"""The session state machine: when a session starts, when to warn about idleness, when to end.

Pure logic with the clock passed in, so it is tested without a window. The window feeds it input
(``touch``), time (``tick``) and the resident's choices (``still_here``, ``end``), and acts on
what it returns.

    NO_SESSION --input--> ACTIVE --no input for warning_after--> WARNING --no answer--> ended
                            ^                                       |
                            +------------- "Je suis encore là" -----+
    "Terminer ma session" ends from ACTIVE or WARNING.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class State(str, enum.Enum):
    NO_SESSION = "no_session"
    ACTIVE = "active"
    WARNING = "warning"


class Action(str, enum.Enum):
    NONE = "none"
    STARTED = "started"          # a session began: emit session_started
    WARN = "warn"                # show the idle question: emit idle_warning
    KEEP = "keep"                # the resident answered: hide the question
    END_IDLE = "end_idle"        # no answer: emit idle_reset, then end (wipe)
    END_ASKED = "end_asked"      # "Terminer ma session": end (wipe)


@dataclass
class Session:
    warning_after_s: float
    answer_within_s: float
    state: State = State.NO_SESSION
    started_at: float | None = None
    last_input_at: float = 0.0
    warned_at: float | None = None

    def touch(self, now: float) -> Action:
        """Keyboard or pointer input. Starts a session; does not answer the idle question by itself
        (the question covers the page, so input there means a press on the question's button)."""
        if self.state is State.NO_SESSION:
            self.state, self.started_at, self.last_input_at = State.ACTIVE, now, now
            return Action.STARTED
        if self.state is State.ACTIVE:
            self.last_input_at = now
        return Action.NONE

    def still_here(self, now: float) -> Action:
        if self.state is State.WARNING:
            self.state, self.warned_at, self.last_input_at = State.ACTIVE, None, now
            return Action.KEEP
        return self.touch(now)

    def tick(self, now: float) -> Action:
        if self.state is State.ACTIVE and now - self.last_input_at >= self.warning_after_s:
            self.state, self.warned_at = State.WARNING, now
            return Action.WARN
        if self.state is State.WARNING and self.warned_at is not None and now - self.warned_at >= self.answer_within_s:
            return Action.END_IDLE
        return Action.NONE

    def end(self) -> Action:
        return Action.END_ASKED if self.state is not State.NO_SESSION else Action.NONE

    def seconds_left(self, now: float) -> int:
        """Seconds left to answer the idle question (0 when there is no question)."""
        if self.state is not State.WARNING or self.warned_at is None:
            return 0
        return max(0, round(self.answer_within_s - (now - self.warned_at)))

    def finish(self, now: float) -> float | None:
        """Close the session after the wipe; returns its duration (None if none was running)."""
        duration = None if self.started_at is None else max(0.0, now - self.started_at)
        self.state, self.started_at, self.warned_at = State.NO_SESSION, None, None
        return duration


NNBSP = "\u202f"


def erase_summary(documents: int, site: str | None) -> list[str]:
    """What "Terminer ma session" will erase, in plain words, one line each (French typography)."""
    lines = [f"Tout ce que vous avez fait sur ce poste va être effacé{NNBSP}:"]
    if documents:
        noun = "documents" if documents > 1 else "document"
        lines.append(f"• {documents} {noun} dans «{NNBSP}Mes documents{NNBSP}»")
    if site:
        lines.append(f"• le site ouvert{NNBSP}: {site}")
    lines.append("• vos connexions aux sites et ce que vous avez tapé.")
    return lines
