"""Applying a configuration bundle at a session boundary (issue 12).

The agent stages a verified bundle (:mod:`kiosk.agent.bundles`); the kiosk applies it only between two
residents: when it starts (:func:`config_dir_at_start`) and right after a session's wipe
(:func:`swap_after_wipe`, the window's ``on_session_boundary`` hook). Never while a session is open.
After a swap the kiosk leaves once the "session ended" page has been shown and its supervisor
(kiosk-session.service, Restart=always) starts it again on the new configuration: every part of the
kiosk (shell, window, allowed hosts, idle delays) then reads one configuration, never a mix.
"""

from __future__ import annotations

import logging
from pathlib import Path

from kiosk.agent.bundles import active_config_dir, apply_staged

log = logging.getLogger(__name__)
EXIT_RELOAD = 0  # a clean exit: the supervisor starts the kiosk again


def config_dir_at_start(installed_dir: Path, bundle_dir: Path | None) -> Path:
    """Starting is a boundary: apply what is staged, then the directory to load."""
    if bundle_dir is None:
        return Path(installed_dir)
    try:
        version = apply_staged(bundle_dir)
    except OSError as error:
        log.error("the staged configuration bundle could not be applied (%s); keeping the current one", error)
        version = None
    if version is not None:
        log.info("configuration bundle %d applied at start", version)
    return active_config_dir(bundle_dir, installed_dir)


def swap_after_wipe(bundle_dir: Path, schedule_quit):
    """The window's ``on_session_boundary`` hook: apply the staged bundle, if any, then ask
    ``schedule_quit(kiosk)`` to restart the kiosk on it."""
    def hook(kiosk) -> None:
        try:
            version = apply_staged(bundle_dir)
        except OSError as error:
            log.error("the staged configuration bundle could not be applied (%s); keeping the current one", error)
            return
        if version is not None:
            log.info("configuration bundle %d applied between two sessions; restarting on it", version)
            schedule_quit(kiosk)
    return hook
