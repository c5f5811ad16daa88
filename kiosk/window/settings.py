"""The window's own settings, each declared once with its default and a help text.

They are not part of a town hall's configuration (kiosk.yaml): they say where the window keeps its
files and, for tests and the benchmark, allow shorter idle delays than kiosk.yaml accepts.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from pathlib import Path


def _setting(default, help_text: str):
    return field(default=default, metadata={"help": help_text})


@dataclass(frozen=True)
class WindowSettings:
    events_dir: Path = _setting(Path("/var/lib/kiosk/events"), "Directory of the event log shared with the telemetry agent.")
    documents_dir: Path | None = _setting(
        None, "Where the session's documents (downloads, USB copies, prints) live; None: a private folder "
        "created in the runtime directory at start and removed at exit.")
    usb_roots: tuple[Path, ...] = _setting(
        (Path("/media"), Path("/run/media")), "Where USB sticks are mounted; their files are offered, copied read-only.")
    idle_warning_after_s: float | None = _setting(
        None, "Override of kiosk.yaml idle.warning_after_s (None: use kiosk.yaml); for tests and the benchmark.")
    idle_answer_within_s: float | None = _setting(
        None, "Override of kiosk.yaml idle.answer_within_s (None: use kiosk.yaml); for tests and the benchmark.")
    ping_interval_s: float = _setting(2.0, "Seconds between two liveness pings of the web process.")
    hang_timeout_s: float = _setting(6.0, "Seconds without an answer to a ping before the web process of a loaded page is declared hung.")
    loading_hang_timeout_s: float = _setting(
        60.0, "Seconds without an answer to a ping before a page that is still loading is declared hung (a heavy "
        "page keeps the web process busy while it loads: slow is not frozen).")
    load_timeout_s: float = _setting(
        40.0, "Seconds a site has to start answering a page before the window stops waiting and says the site "
        "does not answer.")
    web_memory_limit_mb: int | None = _setting(
        None, "Memory limit of the web process in MiB; above it the process is ended and the home page comes back. "
        "None: sized from the machine's memory (40 %, between 512 and 4096 MiB).")
    memory_poll_interval_s: float = _setting(
        3.0, "Seconds between two checks of the web process's memory by WebKit's memory pressure handler.")
    farewell_s: float = _setting(
        8.0, "Seconds the shell's session-ended page stays after a wipe before the home screen comes back.")
    shell_port: int = _setting(0, "Loopback port of the shell served inside the window process (0: any free port).")
    reboot_command: tuple[str, ...] = _setting(
        ("systemctl", "reboot"), "Command that reboots the PC when staff ask for it (run between two sessions; "
        "logind allows it to the user of the active seat).")

    def __post_init__(self) -> None:
        problems = []
        for name in ("idle_warning_after_s", "idle_answer_within_s"):
            value = getattr(self, name)
            if value is not None and not 0 < value <= 3600:
                problems.append(f"{name} must be between 0 and 3600 seconds, not {value!r}")
        if not 0.2 <= self.ping_interval_s <= 60:
            problems.append(f"ping_interval_s must be between 0.2 and 60 seconds, not {self.ping_interval_s!r}")
        if not self.ping_interval_s < self.hang_timeout_s <= 120:
            problems.append(f"hang_timeout_s must be above ping_interval_s and at most 120, not {self.hang_timeout_s!r}")
        if not self.hang_timeout_s <= self.loading_hang_timeout_s <= 600:
            problems.append("loading_hang_timeout_s must be at least hang_timeout_s and at most 600, "
                            f"not {self.loading_hang_timeout_s!r}")
        if not 1 <= self.load_timeout_s <= 300:
            problems.append(f"load_timeout_s must be between 1 and 300 seconds, not {self.load_timeout_s!r}")
        if self.web_memory_limit_mb is not None and not 64 <= self.web_memory_limit_mb <= 65536:
            problems.append(f"web_memory_limit_mb must be between 64 and 65536 MiB, not {self.web_memory_limit_mb!r}")
        if not 0.2 <= self.memory_poll_interval_s <= 60:
            problems.append(f"memory_poll_interval_s must be between 0.2 and 60 seconds, not {self.memory_poll_interval_s!r}")
        if not 0.1 <= self.farewell_s <= 60:
            problems.append(f"farewell_s must be between 0.1 and 60 seconds, not {self.farewell_s!r}")
        if not 0 <= self.shell_port < 65536:
            problems.append(f"shell_port must be a TCP port (0-65535), not {self.shell_port!r}")
        if problems:
            raise ValueError("invalid window settings: " + "; ".join(problems))

    def with_changes(self, **changes) -> "WindowSettings":
        return replace(self, **changes)


def documented_settings() -> dict[str, tuple[object, str]]:
    """Every setting with its default and help text (used by docs and by a test)."""
    return {item.name: (item.default, item.metadata.get("help", "")) for item in fields(WindowSettings)}
