"""Every screen a donated PC comes with: the real kiosk window (``kiosk run``'s pywebview path) on an
Xvfb of each size, measured by ``screen_probe.py`` in its own process (one Xvfb and one window per
size, reused across the text size x contrast cases).

For each size x text (normal, largest = 200 %) x contrast (normal, high): the window covers exactly
the screen (GTK and xwininfo), nothing asks for more width than the screen has, every visible
toolbar button lies inside the screen, at least 48 px high, with its text, the toolbar is at most
80 px high from 1024 px wide, "Accueil", "Retour", "Aide" and "Terminer" are always there; on the
home every ``[data-featured-tile]`` lies inside the web view's visible area, unscrolled (not
required at 800x600: usable, may scroll). The panels (idle question, document picker, end of
session, "Plus") fit at 1024x768 and 800x600. Screenshots: test-artifacts/screen-WxH-*.png.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.window

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
PROBE = Path(__file__).resolve().parent / "screen_probe.py"
SCREENS = [(1024, 768), (1280, 800), (1280, 1024), (1366, 768), (1440, 900), (1600, 900), (1920, 1080), (800, 600)]
PANEL_SCREENS = {(1024, 768), (800, 600)}
ESSENTIAL = {"home": "Accueil", "back": "Retour", "help": "Aide", "end": "Terminer"}
HOME_CASES = {"normal-plain", "largest-plain", "normal-contrast", "largest-contrast"}


def start_xvfb(width: int, height: int) -> tuple[subprocess.Popen, str]:
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (apt-get install xvfb)")
    read, write = os.pipe()
    process = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", f"{width}x{height}x24",
                                "-nolisten", "tcp", "-noreset"], pass_fds=(write,),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as pipe:
        number = pipe.readline().strip()
    return process, f":{number}"


def run_probe(width: int, height: int, work: Path, cases: str = "home", config=REPO / "config" / "demo") -> list[dict]:
    """Start an Xvfb of that size and the probe on it; its JSON lines (fails with its output if it did)."""
    xvfb, display = start_xvfb(width, height)
    try:
        done = subprocess.run([sys.executable, str(PROBE), str(config), str(work), "--cases", cases],
                              env={**os.environ, "DISPLAY": display}, capture_output=True, text=True, timeout=600)
    finally:
        xvfb.terminate()
        xvfb.wait(timeout=10)
    records = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert records and records[-1]["case"] == "DONE", (done.stdout[-3000:], done.stderr[-3000:])
    return records[:-1]


def inside(rect, width: int, height: int) -> bool:
    x, y, w, h = rect
    return x >= 0 and y >= 0 and x + w <= width and y + h <= height


@pytest.mark.parametrize("width,height", SCREENS, ids=[f"{w}x{h}" for w, h in SCREENS])
def test_the_window_fits_every_screen(width, height, tmp_path):
    cases = "all" if (width, height) in PANEL_SCREENS else "home"
    records = run_probe(width, height, tmp_path, cases)
    ARTIFACTS.mkdir(exist_ok=True)
    for record in records:
        shutil.copy(record["screenshot"], ARTIFACTS / f"screen-{width}x{height}-{record['case']}.png")
    home = {record["case"]: record for record in records if not record["case"].startswith("panel-")}
    assert set(home) == HOME_CASES
    problems = []
    for name, case in home.items():
        where = f"{width}x{height} {name}"
        # The window is the screen: GTK's view of it and the X server's.
        assert case["window"][:2] == [0, 0] and case["window_size"] == [width, height], (where, case["window"])
        assert case["x_windows"] == [{"x": 0, "y": 0, "width": width, "height": height}], (where, case["x_windows"])
        assert case["content_min_width"] <= width and case["window_min_width"] <= width, where
        # The toolbar: essential buttons with their text, all inside the screen, big enough.
        buttons = case["buttons"]
        for key, text in ESSENTIAL.items():
            assert key in buttons and text in buttons[key]["label"], (where, key, buttons.get(key))
        for key, button in buttons.items():
            assert inside(button["rect"], width, height), (where, key, button)
            assert button["rect"][3] >= 48, (where, key, button)
        rects = sorted(button["rect"] for button in buttons.values())
        for left, right in zip(rects, rects[1:]):
            assert left[0] + left[2] <= right[0], (where, "toolbar buttons overlap", left, right)
        if width >= 1024:
            assert case["toolbar"][3] <= 80, (where, case["toolbar"])
        page = case["page"]
        assert page["scroll_width"] <= page["width"], (where, "the home scrolls sideways", page)
        if width < 1024:
            continue  # usable (toolbar, no sideways scrolling); the tiles may scroll
        tiles = page["tiles"]
        if not tiles:
            problems.append(f"{where}: no [data-featured-tile] on the home")
            continue
        assert page["scroll_x"] == 0 and page["scroll_y"] == 0, where
        hidden = [tile for tile in tiles if not (tile[0] >= 0 and tile[1] >= 0 and tile[2] <= page["width"]
                                                   and tile[3] <= page["height"])]
        assert not hidden, (where, f"{len(hidden)} of {len(tiles)} featured tiles not fully visible", hidden,
                            page["width"], page["height"])
    for record in records:
        if record["case"].startswith("panel-"):
            where = f"{width}x{height} {record['case']}"
            area = record["area"]
            assert inside(record["panel"], width, height), (where, record)
            px, py, pw, ph = record["panel"]
            assert px >= area[0] and py >= area[1] and px + pw <= area[0] + area[2] and py + ph <= area[1] + area[3], (
                where, record)
            assert record["min_size"][0] <= area[2] and record["min_size"][1] <= area[3], (where, record)
            for button in record["buttons"]:
                assert inside(button, width, height) and button[3] >= 48, (where, button)
            # The toolbar keeps the layout it had on the home (no flip-flop), its buttons on the screen.
            assert record["toolbar_layout"] == home["normal-plain"]["toolbar_layout"], where
            for button in record["toolbar_buttons"]:
                assert inside(button, width, height), (where, "toolbar", button)
    if problems:
        pytest.skip("the home has no [data-featured-tile] yet (the shell branch adds them): " + "; ".join(problems))
