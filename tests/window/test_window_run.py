"""``kiosk run`` as the supervisor starts it: a real process on its own Xvfb display."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from xdisplay import SCREEN, start_xvfb

pytestmark = pytest.mark.window


def kiosk_run(*args: str, env=None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "kiosk.cli", "run", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def viewable_windows(display: str) -> list[str]:
    env = {**os.environ, "DISPLAY": display}
    out = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "Point numérique"],
                         capture_output=True, text=True, env=env).stdout.split()
    return [subprocess.run(["xwininfo", "-id", wid], capture_output=True, text=True, env=env).stdout for wid in out]


@pytest.fixture
def display():
    process, name = start_xvfb()
    yield name
    process.terminate()
    process.wait(timeout=10)


@pytest.mark.parametrize("windowed", [False, True], ids=["locked", "windowed"])
def test_kiosk_run_covers_the_screen_and_stops_cleanly(display, config_dir, tmp_path, windowed):
    env = {**os.environ, "DISPLAY": display}
    args = [str(config_dir), "--events-dir", str(tmp_path / "events")] + (["--windowed"] if windowed else [])
    process = kiosk_run(*args, env=env)
    try:
        deadline = time.monotonic() + 20
        while not viewable_windows(display) and time.monotonic() < deadline:
            time.sleep(0.2)
        windows = viewable_windows(display)
        assert len(windows) == 1
        width = f"Width: {SCREEN[0]}" in windows[0] and f"Height: {SCREEN[1]}" in windows[0]
        assert width is (not windowed)
        assert process.poll() is None
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=15)
        assert process.returncode == 0, err
        assert '"kind":"kiosk_started"' in (tmp_path / "events" / "current.jsonl").read_text()
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=15)


def test_kiosk_run_refuses_a_bad_configuration(tmp_path):
    process = kiosk_run(str(tmp_path / "absent"))
    _out, err = process.communicate(timeout=30)
    assert process.returncode == 2 and "Configuration refusée" in err


def test_kiosk_run_without_a_display_exits_non_zero(config_dir):
    env = {key: value for key, value in os.environ.items() if key not in ("DISPLAY", "WAYLAND_DISPLAY")}
    process = kiosk_run(str(config_dir), env=env)
    _out, err = process.communicate(timeout=30)
    assert process.returncode == 1 and "Pas d'écran" in err
