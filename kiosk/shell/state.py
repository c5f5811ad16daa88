"""What every part of the shell reaches: the configuration, settings, probe, events and extensions."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import Flask, current_app

from kiosk.config import KioskConfig
from kiosk.events import EventLog
from kiosk.shell.connectivity import ConnectivityProbe
from kiosk.shell.settings import ShellSettings

EXTENSION_KEY = "kiosk_shell"


@dataclass
class NavLink:
    label: str
    endpoint: str


@dataclass
class ShellState:
    """What every part of the shell reaches through :func:`shell_state`."""

    config: KioskConfig
    settings: ShellSettings
    probe: ConnectivityProbe
    events: EventLog | None = None
    nav_links: list[NavLink] = field(default_factory=list)
    page_scripts: list[tuple[str, str]] = field(default_factory=list)  # (static endpoint, filename)
    pictograms: dict[str, bytes] = field(default_factory=dict)  # tile id -> SVG document

    def add_nav_link(self, label: str, endpoint: str) -> None:
        """Show a link (French label, Flask endpoint) in the header of every shell page."""
        self.nav_links.append(NavLink(label, endpoint))

    def add_page_script(self, endpoint: str, filename: str) -> None:
        """Load a script (served by ``endpoint``, e.g. "documents.static") on every shell page."""
        self.page_scripts.append((endpoint, filename))


def shell_state(app: Flask | None = None) -> ShellState:
    return (app or current_app).extensions[EXTENSION_KEY]
