"""How big and how often frames go out, adapted to the link: a ladder of (scale, JPEG quality) steps.

A frame is only captured when the previous one has been uploaded (the caller skips otherwise), so a slow
link already means fewer frames; on top of that, an upload slower than ``slow_s`` moves one step down
the ladder (smaller, coarser frames) and a run of fast ones moves one step back up. And the frames of a
moving page never use more than ``budget_kbit_per_s`` on average (a 4G uplink shared with the page's own
traffic): after a frame of N bytes, the next capture waits N / budget seconds. Within that budget, more
smaller frames beat fewer big ones (a mediator following a scroll): a frame bigger than the budget's
share of ``min_frames_per_s`` moves one step down, and the ladder only climbs back while frames are well
under that share.
"""

from __future__ import annotations

LADDER = ((1.0, 70), (0.8, 60), (0.65, 50), (0.5, 42), (0.4, 35))


class Pacing:
    def __init__(self, slow_s: float = 0.6, fast_s: float = 0.2, fast_run: int = 5, start: int = 2,
                 budget_kbit_per_s: float = 250.0, min_frames_per_s: float = 2.0) -> None:
        self.slow_s, self.fast_s, self.fast_run = slow_s, fast_s, fast_run
        self.budget_bytes_per_s = budget_kbit_per_s * 1000 / 8
        self.frame_bytes_share = self.budget_bytes_per_s / min_frames_per_s
        self.level = start
        self._fast = 0

    @property
    def scale(self) -> float:
        return LADDER[self.level][0]

    @property
    def quality(self) -> int:
        return LADDER[self.level][1]

    def record(self, upload_s: float, frame_bytes: int = 0) -> None:
        if upload_s > self.slow_s or frame_bytes > self.frame_bytes_share:
            self.level = min(len(LADDER) - 1, self.level + 1)
            self._fast = 0
        elif upload_s < self.fast_s and frame_bytes < self.frame_bytes_share / 2:
            self._fast += 1
            if self._fast >= self.fast_run and self.level > 0:
                self.level -= 1
                self._fast = 0
        else:
            self._fast = 0

    def pause_after(self, frame_bytes: int, upload_s: float) -> float:
        """Seconds to wait before the next capture, so that frames stay within the budget."""
        return max(0.0, frame_bytes / self.budget_bytes_per_s - upload_s)

    def too_big(self) -> None:
        """A frame over the relay's size limit: step down for the next one."""
        self.level = min(len(LADDER) - 1, self.level + 1)
