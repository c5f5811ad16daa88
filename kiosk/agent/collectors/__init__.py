"""One collector per family (health, inventory, usage). Each takes the /proc and /sys roots as
parameters, and treats a missing sensor or file as normal: it is counted and logged once, never fatal."""

from __future__ import annotations

import logging
from collections import Counter

log = logging.getLogger("kiosk.agent")


class ReadTrouble:
    """Counts unreadable sources per kind; logs the first occurrence of each kind only."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def note(self, kind: str, error: BaseException) -> None:
        self.counts[kind] += 1
        if self.counts[kind] == 1:
            log.info("%s unavailable (%s); carrying on without it", kind, error)
