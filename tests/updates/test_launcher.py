"""The launcher's switch and automatic rollback, with real processes standing for the kiosk's versions:
the launcher runs as its own process (``python -m kiosk.updates.launcher``), as the session would start
it, and each version is a real program that shows the home screen (prints the ready line), hangs without
it, or exits at once."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from release_helpers import fake_release

from kiosk.updates.layout import ReleasePaths, current_version, point_link, previous_version, switch_record


def launch(paths: ReleasePaths, installed, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kiosk.updates.launcher", "--releases-dir", str(paths.releases_dir),
         "--switch-dir", str(paths.switch_dir), "--installed", str(installed), "--health-timeout-s", "3",
         "--max-failures", "3", "--failure-window-s", "600", *extra, "--", "run", "/etc/kiosk"],
        capture_output=True, text=True, timeout=120)


def stage(paths: ReleasePaths, version: str, behaviour: str) -> None:
    fake_release(paths.releases_dir, version, behaviour)
    point_link(paths.releases_dir, "staged", version)


def setup(tmp_path):
    paths = ReleasePaths(tmp_path / "releases", tmp_path / "switch")
    paths.releases_dir.mkdir()
    installed = fake_release(tmp_path, "installed", "good")
    return paths, installed


def test_a_new_version_that_never_shows_the_home_screen_is_stopped_and_rolled_back(tmp_path):
    paths, installed = setup(tmp_path)
    stage(paths, "2.0.0", "hang")
    started = time.monotonic()
    first = launch(paths, installed)
    elapsed = time.monotonic() - started
    assert "kiosk 2.0.0 ['run', '/etc/kiosk']" in first.stdout  # the new version did run, with the kiosk's arguments
    assert first.returncode == 1 and elapsed < 60
    record = switch_record(paths)
    assert record["outcome"] == "rolled_back" and record["to"] == "2.0.0"
    assert "no home screen within 3 s" in record["reason"]
    assert current_version(paths) is None and not (paths.switch_dir / "current").is_symlink()
    assert (paths.releases_dir / "2.0.0" / "bin" / "kiosk").is_file()  # kept on disk
    again = launch(paths, installed)  # the supervisor starts the session again: the installed version
    assert again.returncode == 0 and "kiosk installed" in again.stdout and "Accueil affiché." in again.stdout
    assert current_version(paths) is None and switch_record(paths)["outcome"] == "rolled_back"  # not retried


def test_a_good_version_switches_and_a_crash_looping_one_goes_back_to_it(tmp_path):
    paths, installed = setup(tmp_path)
    stage(paths, "1.0.0", "good")
    good = launch(paths, installed)
    assert good.returncode == 0 and "kiosk 1.0.0" in good.stdout
    assert current_version(paths) == "1.0.0"
    assert switch_record(paths)["outcome"] == "switched" and switch_record(paths)["confirmed"] is True

    stage(paths, "1.1.0", "crash")
    codes = []
    for _ in range(3):
        run = launch(paths, installed)
        assert "kiosk 1.1.0" in run.stdout
        codes.append(run.returncode)
        if switch_record(paths)["outcome"] == "rolled_back":
            break
        assert current_version(paths) == "1.1.0" and previous_version(paths) == "1.0.0"
    assert codes == [3, 3, 3]
    record = switch_record(paths)
    assert record["outcome"] == "rolled_back" and record["from"] == "1.0.0"
    assert record["reason"].startswith("crash loop: 3 exits in 10 min") and "last exit code 3" in record["reason"]
    assert current_version(paths) == "1.0.0"
    back = launch(paths, installed)
    assert back.returncode == 0 and "kiosk 1.0.0" in back.stdout and "Accueil affiché." in back.stdout
    assert "1.1.0" in record["rolled_back_versions"]


def test_the_launcher_follows_current_only_into_the_releases_directory(tmp_path):
    """A ``current`` link pointed anywhere else (the session user can write its switch directory) is not
    followed: the installed version runs."""
    paths, installed = setup(tmp_path)
    elsewhere = fake_release(tmp_path / "elsewhere", "6.6.6", "good")
    paths.switch_dir.mkdir()
    os.symlink(elsewhere, paths.switch_dir / "current")
    run = launch(paths, installed)
    assert run.returncode == 0 and "kiosk installed" in run.stdout and "6.6.6" not in run.stdout


def test_between_two_sessions_the_window_leaves_only_when_a_release_waits(tmp_path):
    """The window's session-boundary hook (the same object run.py installs), on a stand-in for the window
    with a real GLib main loop: nothing waiting, the bundles' hook runs; a staged release, the kiosk leaves
    (exit 0) after the farewell so that the launcher switches; a rolled-back one never makes it leave."""
    from gi.repository import GLib

    from kiosk.updates.boundary import leave_for_release

    paths, installed = setup(tmp_path)
    paths.switch_dir.mkdir()
    environ = {"KIOSK_RELEASES_DIR": str(paths.releases_dir), "KIOSK_RELEASE_SWITCH_DIR": str(paths.switch_dir)}
    loop = GLib.MainLoop()

    class Window:
        exit_code = 7
        quits = 0

        def _quit(self):
            self.quits += 1
            loop.quit()
            return True

    bundle_hook_calls = []
    hook = leave_for_release(bundle_hook_calls.append, farewell_s=0.1, environ=environ)
    window = Window()
    hook(window)
    assert bundle_hook_calls == [window] and window.exit_code == 7

    stage(paths, "3.0.0", "good")
    hook(window)
    GLib.timeout_add(5000, loop.quit)
    loop.run()
    assert window.quits == 1 and window.exit_code == 0 and bundle_hook_calls == [window]

    from kiosk.updates.layout import write_json
    write_json(paths.switch_dir / "switch.json", {"rolled_back_versions": ["3.0.0"]})
    hook(window)
    assert bundle_hook_calls == [window, window]


def test_the_ready_line_the_launcher_waits_for_is_the_one_the_window_prints():
    """The launcher's health signal is the window's own ready line (kiosk/window/kiosk.py): if one changed
    without the other, every new version would be rolled back."""
    from pathlib import Path

    from kiosk.updates.launcher import READY_LINE
    window = (Path(__file__).resolve().parents[2] / "kiosk" / "window" / "kiosk.py").read_text(encoding="utf-8")
    assert f'print("{READY_LINE}", flush=True)' in window


def test_pruning_keeps_the_current_previous_and_staged_releases_only(tmp_path):
    from kiosk.updates.layout import prune
    paths, installed = setup(tmp_path)
    for version in ("1.0.0", "1.1.0", "1.2.0", "1.3.0", "1.4.0"):
        fake_release(paths.releases_dir, version, "good")
    paths.switch_dir.mkdir()
    point_link(paths.switch_dir, "current", paths.release("1.3.0"))
    point_link(paths.switch_dir, "previous", paths.release("1.2.0"))
    point_link(paths.releases_dir, "staged", "1.4.0")
    assert prune(paths) == ["1.0.0", "1.1.0"]
    assert sorted(p.name for p in paths.releases_dir.iterdir() if not p.is_symlink()) == ["1.2.0", "1.3.0", "1.4.0"]
    assert current_version(paths) == "1.3.0" and previous_version(paths) == "1.2.0"
