"""``kiosk run`` as the supervisor starts it: a real process on its own Xvfb display.

This is the pywebview path (pywebview's GTK window adopted by the kiosk, ``webview.start()`` owning
the main loop); the in-process tests drive the same KioskWindow on a plain Gtk.Window.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import json
import re

import psutil
import pytest

from connectivity_check import ConnectivityCheck
from xdisplay import SCREEN, send_close_request, start_xvfb

pytestmark = pytest.mark.window


def kiosk_run(*args: str, env=None) -> subprocess.Popen:
    """``kiosk run`` with its output in a file, never in a pipe nobody reads while it runs (a process
    blocked on a full pipe never shows its window); :func:`output` reads it. Unless told otherwise,
    the shell's connectivity probe aims at a closed loopback port: nothing leaves this machine."""
    env = {"KIOSK_SHELL_PROBE_HOST": "127.0.0.1", "KIOSK_SHELL_PROBE_PORT": "9", **(env or os.environ)}
    log = tempfile.NamedTemporaryFile("w+", prefix="kiosk-run-", suffix=".log", delete=False)
    process = subprocess.Popen([sys.executable, "-m", "kiosk.cli", "run", *args], env=env,
                               stdout=log, stderr=subprocess.STDOUT, text=True)
    process.log_path = log.name
    log.close()
    return process


def output(process: subprocess.Popen) -> str:
    with open(process.log_path) as log:
        return log.read()


def finished(process: subprocess.Popen, timeout: float) -> str:
    """Wait for the process to end; its output."""
    process.wait(timeout=timeout)
    return output(process)


def viewable_windows(display: str) -> dict[str, str]:
    """The kiosk's viewable windows on a display: window id -> what xwininfo says of it."""
    env = {**os.environ, "DISPLAY": display}
    found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "Point numérique"],
                           capture_output=True, text=True, env=env, timeout=30).stdout.split()
    return {wid: subprocess.run(["xwininfo", "-id", wid], capture_output=True, text=True, env=env, timeout=30).stdout
            for wid in found}


def shown_window(process: subprocess.Popen, display: str, events_dir) -> tuple[str, str]:
    """The one kiosk window, once shown: its id and what xwininfo says of it.

    Usually under 2 s. A loaded machine may take much longer (seen once: over 20 s while a whole CI
    run went on beside it), so the wait allows 150 s and stops at once if the process dies. A failure
    says whether and when the kiosk said it started (``kiosk_started``) and what the display showed.
    """
    begun = time.monotonic()
    deadline, started = begun + 150, None
    while process.poll() is None and time.monotonic() < deadline:
        windows = viewable_windows(display)
        if windows:
            assert len(windows) == 1, f"{len(windows)} kiosk windows"
            return next(iter(windows.items()))
        if started is None and any(event["kind"] == "kiosk_started" for event in read_events(events_dir)):
            started = time.monotonic() - begun
        time.sleep(0.2)
    state = f"said it started after {started:.1f} s but" if started is not None else "did not say it started and"
    raise AssertionError(f"the kiosk {state} showed no window\n{why_no_window(process, display)}")


def why_no_window(process: subprocess.Popen, display: str) -> str:
    """What a failed wait for the window saw: the kiosk's exit status, the display's windows with
    their map state, every thread's native stack (with gdb, when installed) and the kiosk's output."""
    env = {**os.environ, "DISPLAY": display}
    parts = [f"exit status {process.poll()}; the same search now: {len(viewable_windows(display))} window(s)"]
    found = subprocess.run(["xdotool", "search", "--name", "."], capture_output=True, text=True, env=env, timeout=30)
    parts.append(f"xdotool: {found.returncode} {found.stderr.strip()}")
    for wid in found.stdout.split():
        info = subprocess.run(["xwininfo", "-id", wid], capture_output=True, text=True, env=env, timeout=30).stdout
        parts.append(" | ".join(line.strip() for line in info.splitlines()
                                if "xwininfo:" in line or "Map State" in line or "Width" in line or "Height" in line))
    if process.poll() is None and shutil.which("gdb"):
        stacks = subprocess.run(["gdb", "-p", str(process.pid), "-batch", "-ex", "thread apply all bt 25"],
                                capture_output=True, text=True, timeout=120).stdout
        parts.append("native stacks:\n" + "\n".join(line for line in stacks.splitlines() if line.startswith(("#", "Thread"))))
    parts.append("output:\n" + output(process)[-12000:])
    return "\n".join(parts)


def web_processes(process: subprocess.Popen, name: str = "WebKitWebProcess") -> list[psutil.Process]:
    found = []
    for child in psutil.Process(process.pid).children(recursive=True):
        try:  # a child may end between the listing and this look (pywebview's own web view disposed of)
            if child.name() == name:
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


def pixel(display: str, x: int, y: int) -> str:
    """The colour of one pixel of a display's root window, as #RRGGBB (ImageMagick's import)."""
    out = subprocess.run(["import", "-display", display, "-window", "root", "-crop", f"1x1+{x}+{y}", "-depth", "8", "txt:-"],
                         capture_output=True, text=True, check=True, timeout=30).stdout
    return re.search(r"#[0-9A-F]{6}\b", out.upper()).group(0)


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.1)


def read_events(events_dir) -> list[dict]:
    path = events_dir / "current.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


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
        _window_id, window = shown_window(process, display, tmp_path / "events")
        width = f"Width: {SCREEN[0]}" in window and f"Height: {SCREEN[1]}" in window
        assert width is (not windowed)
        assert process.poll() is None
        # pywebview's own web view and web context were disposed of: one web process and one
        # network process, the kiosk's session view's.
        wait_for(lambda: len(web_processes(process)) == 1, 10, "a single web process")
        wait_for(lambda: len(web_processes(process, "WebKitNetworkProcess")) == 1, 10, "a single network process")
        process.send_signal(signal.SIGTERM)
        err = finished(process, 15)
        assert process.returncode == 0, err
        assert '"kind":"kiosk_started"' in (tmp_path / "events" / "current.jsonl").read_text()
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=15)


@pytest.mark.parametrize("windowed", [False, True], ids=["locked", "windowed"])
def test_a_close_request_closes_only_the_demo_window(display, config_dir, tmp_path, windowed):
    """The window manager's close button (WM_DELETE_WINDOW) goes through pywebview's ``closing`` event."""
    env = {**os.environ, "DISPLAY": display}
    args = [str(config_dir), "--events-dir", str(tmp_path / "events")] + (["--windowed"] if windowed else [])
    process = kiosk_run(*args, env=env)
    try:
        window_id, _window = shown_window(process, display, tmp_path / "events")
        time.sleep(1.0)
        send_close_request(display, int(window_id))
        if windowed:
            assert process.wait(timeout=15) == 0
        else:
            time.sleep(2.0)
            assert process.poll() is None
            assert len(viewable_windows(display)) == 1
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=15) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=15)


def test_kiosk_run_refuses_a_bad_configuration(tmp_path):
    process = kiosk_run(str(tmp_path / "absent"))
    err = finished(process, 30)
    assert process.returncode == 2 and "Configuration refusée" in err


def test_kiosk_run_without_a_display_exits_non_zero(config_dir):
    env = {key: value for key, value in os.environ.items() if key not in ("DISPLAY", "WAYLAND_DISPLAY")}
    process = kiosk_run(str(config_dir), env=env)
    err = finished(process, 30)
    assert process.returncode == 1 and "Pas d'écran" in err


def test_locked_kiosk_run_keeps_popups_in_its_one_window(display, driver, sites, make_config, tmp_path):
    """Through the running process: a tile's page opens a target=_blank link and a window.open to a
    host that is not allowed; the forbidden server gets nothing, the one window stays on top."""
    # Where things are on the screen, from the in-process kiosk (same screen size, same layout).
    centre = driver.js("(() => { const r = document.querySelector('a.tuile').getBoundingClientRect();"
                       " return [r.left + r.width / 2, r.top + r.height / 2]; })()")
    kiosk = driver.kiosk
    tile = kiosk.view.translate_coordinates(kiosk.window, int(centre[0]), int(centre[1]))
    home_button = kiosk.toolbar.buttons["home"]
    allocation = home_button.get_allocation()
    home = home_button.translate_coordinates(kiosk.window, allocation.width // 2, allocation.height // 2)
    view_top = kiosk.view.translate_coordinates(kiosk.window, 0, 0)[1]
    upper, lower = (view_top + (SCREEN[1] - view_top) // 4, view_top + (SCREEN[1] - view_top) * 3 // 4)

    config = make_config(tmp_path / "config", sites.page("popups"))
    events_dir = tmp_path / "events"
    connectivity = ConnectivityCheck.start("online")  # its own, so that its checks are this kiosk's
    env = {**os.environ, "DISPLAY": display, "KIOSK_SHELL_PROBE_HOST": "127.0.0.1",
           "KIOSK_SHELL_PROBE_PORT": str(connectivity.port)}  # online: the tile opens
    process = kiosk_run(str(config), "--events-dir", str(events_dir), env=env)

    def click(x: int, y: int) -> None:
        subprocess.run(["xdotool", "mousemove", str(x), str(y), "click", "1"], env=env, check=True, timeout=10)

    def refusals() -> int:
        return sum(1 for event in read_events(events_dir)
                   if event["kind"] == "navigation_refused" and event.get("host") == "127.0.0.2")

    def open_tile(times: int) -> None:
        click(*tile)
        wait_for(lambda: sum(path == "/hostile/popups" for _m, path, _c in sites.allowed.requests) == times, 15,
                 "the tile's page")
        time.sleep(1.0)  # let it render before clicking in it

    try:
        shown_window(process, display, events_dir)
        wait_for(lambda: any(event["kind"] == "kiosk_started" for event in read_events(events_dir)), 60,
                 "the kiosk to start")
        wait_for(lambda: pixel(display, 1000, 2) == "#14325C", 15, "the toolbar on the screen")
        time.sleep(1.5)  # the home page's first paint
        # The tile opens only once the shell's connectivity check was answered (slow on a loaded machine).
        wait_for(lambda: connectivity.server.checks > 0, 60, "the shell's first connectivity check")
        time.sleep(0.5)
        sites.reset()
        open_tile(1)
        click(SCREEN[0] // 2, upper)  # target=_blank
        wait_for(lambda: refusals() == 1, 10, "the refused popup link")
        click(*home)
        time.sleep(1.5)
        open_tile(2)
        click(SCREEN[0] // 2, lower)  # window.open
        wait_for(lambda: refusals() == 2, 10, "the refused window.open")
        time.sleep(1.0)

        assert sites.forbidden.requests == []
        windows = list(viewable_windows(display).values())
        assert len(windows) == 1
        assert f"Width: {SCREEN[0]}" in windows[0] and f"Height: {SCREEN[1]}" in windows[0]
        assert "Absolute upper-left X:  0" in windows[0] and "Absolute upper-left Y:  0" in windows[0]
        assert pixel(display, 1000, 2) == "#14325C"  # the native toolbar, its top edge, above the buttons
        assert len(web_processes(process)) == 1
        assert process.poll() is None
        process.send_signal(signal.SIGTERM)
        err = finished(process, 15)
        assert process.returncode == 0, err
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=15)
        connectivity.stop()
