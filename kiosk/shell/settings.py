"""The shell's own settings, each declared once with its default and a help text.

They are not part of a town hall's configuration (kiosk.yaml): they tune how the shell runs
(the connectivity probe, the status refresh), and tests use them to point the probe at loopback.
``kiosk serve`` reads them from ``KIOSK_SHELL_<NAME>`` environment variables.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields, replace
from typing import Mapping

ENV_PREFIX = "KIOSK_SHELL_"


def _setting(default, help_text: str):
    return field(default=default, metadata={"help": help_text})


@dataclass(frozen=True)
class ShellSettings:
    probe_host: str = _setting(
        "network-test.debian.org",
        "Host of the connectivity check: a plain-HTTP address whose answer is known in advance (Debian's "
        "NetworkManager check by default). No answer: 'offline'; another answer (a redirect, a login page): "
        "'portal' (a captive portal or a 4G router asks for something); the expected answer: 'online'.")
    probe_port: int = _setting(80, "TCP port of the connectivity check (plain HTTP).")
    probe_path: str = _setting("/nm", "Path of the connectivity check's address (starts with /).")
    probe_answer: str = _setting(
        "NetworkManager is online",
        "Body the connectivity check expects with status 200 (surrounding white space ignored).")
    probe_timeout_s: float = _setting(2.0, "Seconds the check waits for the connection and for the answer before calling the kiosk offline.")
    probe_cache_s: float = _setting(
        10.0, "Seconds a probe result is reused; after that a new probe runs in the background.")
    status_refresh_s: int = _setting(
        20, "Seconds between two status checks (/etat) by the page script that updates the header.")
    in_kiosk_window: bool = _setting(
        False, "True when the pages are shown inside the kiosk window, whose native toolbar already has "
        "'Accueil' and the text size buttons: the header then leaves them out (the contrast switch stays).")

    messages_file: str = _setting(
        "", "File where the telemetry agent writes the staff's messages, shown as a banner on every page until "
        "their end date (kiosk run --bundles DIR uses DIR/messages.json; empty: no messages).")

    def __post_init__(self) -> None:
        problems = []
        if not self.probe_host or any(char in self.probe_host for char in "/ :?#"):
            problems.append(f"probe_host must be a bare host name, not {self.probe_host!r}")
        if not 0 < self.probe_port < 65536:
            problems.append(f"probe_port must be a TCP port (1-65535), not {self.probe_port!r}")
        if not self.probe_path.startswith("/") or len(self.probe_path) > 200 or any(
                char.isspace() or char == "#" for char in self.probe_path):
            problems.append(f"probe_path must be a URL path starting with / (no spaces, no #), not {self.probe_path!r}")
        if not 0 < len(self.probe_answer) <= 1000 or self.probe_answer != self.probe_answer.strip():
            problems.append(f"probe_answer must be 1 to 1000 characters without surrounding spaces, not {self.probe_answer!r}")
        if not 0 < self.probe_timeout_s <= 30:
            problems.append(f"probe_timeout_s must be between 0 and 30 seconds, not {self.probe_timeout_s!r}")
        if not 0 <= self.probe_cache_s <= 3600:
            problems.append(f"probe_cache_s must be between 0 and 3600 seconds, not {self.probe_cache_s!r}")
        if not 1 <= self.status_refresh_s <= 3600:
            problems.append(f"status_refresh_s must be between 1 and 3600 seconds, not {self.status_refresh_s!r}")
        if problems:
            raise ValueError("invalid shell settings: " + "; ".join(problems))

    def with_changes(self, **changes) -> "ShellSettings":
        return replace(self, **changes)

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> "ShellSettings":
        """Defaults, overridden by ``KIOSK_SHELL_<NAME>`` variables (e.g. KIOSK_SHELL_PROBE_PORT=443)."""
        environ = os.environ if environ is None else environ
        changes = {}
        for item in fields(cls):
            variable = ENV_PREFIX + item.name.upper()
            if variable in environ:
                kind = type(item.default)
                try:
                    changes[item.name] = _parse_bool(environ[variable]) if kind is bool else kind(environ[variable])
                except ValueError:
                    raise ValueError(f"{variable} must be a {kind.__name__}, not {environ[variable]!r}") from None
        return cls(**changes)


def _parse_bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "oui"):
        return True
    if value in ("0", "false", "no", "non"):
        return False
    raise ValueError(text)


def documented_settings() -> dict[str, tuple[object, str]]:
    """Every setting with its default and help text (used by docs and by a test)."""
    return {item.name: (item.default, item.metadata.get("help", "")) for item in fields(ShellSettings)}
