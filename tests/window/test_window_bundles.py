"""A staged configuration bundle is applied at a session boundary in the real window, never while a
resident's session is open (issue 12): the window's hook (kiosk/window/bundle_swap.py) runs after the wipe."""

from __future__ import annotations

import shutil

import pytest

from kiosk.agent.bundles import applied_version, staged_version
from kiosk.atomic_swap import point_link
from kiosk.window.bundle_swap import swap_after_wipe

pytestmark = pytest.mark.window


def test_a_staged_bundle_waits_for_the_end_of_the_session(driver, config_dir, tmp_path):
    bundle_dir = tmp_path / "bundles"
    bundle_dir.mkdir()
    shutil.copytree(config_dir, bundle_dir / "v2")
    point_link(bundle_dir, "staged", "v2")  # what the agent leaves once a bundle is verified
    restarts = []
    kiosk = driver.kiosk
    kiosk.on_session_boundary = swap_after_wipe(bundle_dir, restarts.append)
    try:
        driver.click_widget(kiosk.toolbar.buttons["zoom_in"])  # a resident's first touch opens a session
        assert kiosk.session.state.value == "active"
        driver.pump(1.0)
        assert staged_version(bundle_dir) == 2 and applied_version(bundle_dir) is None and not restarts
        driver.end_session_by_hand()
        driver.wait(lambda: applied_version(bundle_dir) == 2, 10, "the bundle applied after the wipe")
        assert staged_version(bundle_dir) is None and restarts == [kiosk]
        assert kiosk.session.state.value == "no_session"
    finally:
        kiosk.on_session_boundary = None
