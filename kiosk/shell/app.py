"""The Flask app factory of the residents' shell.

``create_app(config, events=None, settings=None, blueprints=())`` builds the app from a loaded
:class:`~kiosk.config.KioskConfig`. Other parts of the kiosk extend it without editing this file:
they pass their blueprints (or call ``app.register_blueprint`` afterwards), add header links with
:meth:`~kiosk.shell.state.ShellState.add_nav_link` and page scripts with
:meth:`~kiosk.shell.state.ShellState.add_page_script`; every
shell page (templates extending ``base.html``) then shows them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from flask import Blueprint, Flask

from kiosk.config import KioskConfig
from kiosk.events import EventLog
from kiosk.shell import callback, display, errors, help_page, home, messages, security, status, typesetting, unreachable, window_pages
from kiosk.shell.connectivity import ConnectivityProbe
from kiosk.shell.settings import ShellSettings
from kiosk.shell.state import EXTENSION_KEY, ShellState, shell_state

__all__ = ["create_app", "shell_state"]


def _read_pictogram(path: Path) -> bytes:
    """Pictograms are small and checked by the configuration loader: keep them in memory."""
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise ValueError(f"pictogram {path} cannot be read: {error.strerror or error}") from error


def create_app(config: KioskConfig, *, events: EventLog | None = None, settings: ShellSettings | None = None,
               blueprints: Iterable[Blueprint] = ()) -> Flask:
    settings = settings or ShellSettings()
    app = Flask(__name__)
    app.config.update(
        # A fresh random key per start: the only thing in the cookie is the display choice, which
        # must not outlive the kiosk session anyway.
        SECRET_KEY=os.urandom(32),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_NAME="affichage",
        MAX_CONTENT_LENGTH=16 * 1024,
        SEND_FILE_MAX_AGE_DEFAULT=300,
        PROPAGATE_EXCEPTIONS=False,
        TEMPLATES_AUTO_RELOAD=False,
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    probe = ConnectivityProbe(settings.probe_host, settings.probe_port, path=settings.probe_path,
                              answer=settings.probe_answer, timeout_s=settings.probe_timeout_s, cache_s=settings.probe_cache_s)
    pictograms = {tile.id: _read_pictogram(tile.pictogram_path) for tile in config.tiles}
    app.extensions[EXTENSION_KEY] = ShellState(config=config, settings=settings, probe=probe, events=events,
                                               pictograms=pictograms)

    for module in (security, typesetting, errors, display, messages):
        module.init_app(app)
    for blueprint in (home.blueprint, help_page.blueprint, callback.blueprint, window_pages.blueprint, unreachable.blueprint, status.blueprint, *blueprints):
        app.register_blueprint(blueprint)
    return app
