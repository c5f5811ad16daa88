"""The window's side of a software switch: between two residents, leave when a new release is waiting.

The launcher (:mod:`kiosk.updates.launcher`) tells the kiosk where releases live through its environment
(``KIOSK_RELEASES_DIR``, ``KIOSK_RELEASE_SWITCH_DIR``). After a session's wipe, when the agent has staged
a release other than the one running (and not one already rolled back), the kiosk leaves once the
"session ended" page has been shown; its supervisor starts the launcher again, which switches. Never
during a session: only the window's ``on_session_boundary`` calls this.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from kiosk.updates.layout import ReleasePaths, current_version, rolled_back_versions, staged_version

log = logging.getLogger(__name__)
RELEASES_ENV, SWITCH_ENV = "KIOSK_RELEASES_DIR", "KIOSK_RELEASE_SWITCH_DIR"


def paths_from_env(environ=None) -> ReleasePaths | None:
    environ = os.environ if environ is None else environ
    if not environ.get(RELEASES_ENV) or not environ.get(SWITCH_ENV):
        return None
    return ReleasePaths(Path(environ[RELEASES_ENV]), Path(environ[SWITCH_ENV]))


def release_waiting(paths: ReleasePaths | None) -> str | None:
    """The staged version the launcher would switch to now, or None."""
    if paths is None:
        return None
    staged = staged_version(paths)
    if staged is None or staged == current_version(paths) or staged in rolled_back_versions(paths):
        return None
    return staged


def leave_for_release(previous_hook, farewell_s: float, environ=None):
    """An ``on_session_boundary`` hook: leave (exit 0) when a release waits, else ``previous_hook``
    (configuration bundles: applied at the next start anyway, which this leaving is)."""
    paths = paths_from_env(environ)

    def hook(kiosk) -> None:
        version = release_waiting(paths)
        if version is None:
            if previous_hook is not None:
                previous_hook(kiosk)
            return
        from gi.repository import GLib
        log.info("release %s waiting; leaving between two sessions so that the launcher switches", version)
        kiosk.exit_code = 0
        GLib.timeout_add(int((farewell_s + 0.5) * 1000), lambda: kiosk._quit() and False)
    return hook
