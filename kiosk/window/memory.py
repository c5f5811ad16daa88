"""How much memory a web process may take, sized from the machine's memory.

A page that allocates without end once grew the web process to 6.4 GB. WebKit's memory pressure
handler (``WebKitMemoryPressureSettings``, given to each view's web context) checks the web process
every ``poll_interval`` seconds, asks it to release memory above a fraction of the limit, and kills
it at the limit; the window then shows the home page again, as after a crash.

The limit leaves room for the rest of the kiosk (X, the shell, WebKit's network process, the
system): a share of the machine's memory, bounded below so that real service pages still work on a
2 GB machine, and above so that a big machine does not let one page take everything.
"""

from __future__ import annotations

from pathlib import Path

SHARE_OF_MEMORY = 0.4
MIN_LIMIT_MB = 512
MAX_LIMIT_MB = 4096
FALLBACK_TOTAL_MB = 2048  # when /proc/meminfo cannot be read: the smallest machine we support


def machine_memory_mb(meminfo: Path = Path("/proc/meminfo")) -> int | None:
    """MemTotal in MiB, or None when it cannot be read."""
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def web_process_limit_mb(total_mb: int | None) -> int:
    """The web process memory limit for a machine of ``total_mb`` MiB."""
    total = total_mb if total_mb and total_mb > 0 else FALLBACK_TOTAL_MB
    return max(MIN_LIMIT_MB, min(MAX_LIMIT_MB, int(total * SHARE_OF_MEMORY)))
