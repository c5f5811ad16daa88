"""The session's first process: switch to a staged release at the session boundary (the start), run the
kiosk of the ``current`` release, and roll back by itself when a new version is not healthy.

Run from the version the playbooks installed (never from a release), so a broken release cannot break
its own rollback::

    python -m kiosk.updates.launcher --releases-dir /opt/kiosk/releases --switch-dir /var/lib/kiosk/release \\
        --installed /opt/kiosk/venv -- run /etc/kiosk --bundles /var/lib/kiosk/bundles

Healthy means the kiosk printed its ready line (« Accueil affiché. », the first time the home screen is
on the screen). Until a new version has done so once, it is on probation: no ready line within
``--health-timeout-s`` (the kiosk is stopped), or ``--max-failures`` exits within ``--failure-window-s``
(a crash loop), and ``current`` goes back to the previous version; ``switch.json`` keeps the outcome and
the reason for the agent to report. One launch runs the kiosk once and exits with its code: the session's
supervisor (systemd, Restart=always) starts it again, on the previous version after a rollback.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from kiosk.updates.layout import (CURRENT, PREVIOUS, ROLLED_BACK_KEPT, SWITCH_FILE, ReleasePaths, current_version,
                                  point_link, staged_version, switch_record, write_json)

READY_LINE = "Accueil affiché."
STOP_GRACE_S = 5.0


def switch_if_staged(paths: ReleasePaths, now: float) -> str | None:
    """At a session boundary: make the staged release current (the old current becomes previous); the
    version switched to, or None."""
    record = switch_record(paths)
    staged, current = staged_version(paths), current_version(paths)
    if staged is None or staged == current or staged in (record.get("rolled_back_versions") or []):
        return None
    if current is not None:
        point_link(paths.switch_dir, PREVIOUS, paths.release(current))
    else:
        (paths.switch_dir / PREVIOUS).unlink(missing_ok=True)
    point_link(paths.switch_dir, CURRENT, paths.release(staged))
    write_json(paths.switch_dir / SWITCH_FILE, {
        "from": current, "to": staged, "switched_at": now, "confirmed": False, "failures": [], "outcome": None,
        "reason": None, "rolled_back_versions": list(record.get("rolled_back_versions") or [])})
    return staged


def roll_back(paths: ReleasePaths, record: dict, reason: str) -> None:
    """``current`` back to the version before the switch (none: the installed one); the release stays on
    disk, and is never switched to again unless the server names a newer one."""
    previous = record.get("from")
    if previous and paths.is_installed(previous):
        point_link(paths.switch_dir, CURRENT, paths.release(previous))
    else:
        (paths.switch_dir / CURRENT).unlink(missing_ok=True)
    (paths.switch_dir / PREVIOUS).unlink(missing_ok=True)
    rolled = [v for v in record.get("rolled_back_versions") or [] if v != record["to"]] + [record["to"]]
    write_json(paths.switch_dir / SWITCH_FILE, {**record, "outcome": "rolled_back", "reason": reason[:300],
                                                "rolled_back_versions": rolled[-ROLLED_BACK_KEPT:]})
    print(f"Version {record['to']} abandonnée, retour à la précédente : {reason}", file=sys.stderr, flush=True)


def _program(paths: ReleasePaths, installed: Path) -> Path:
    version = current_version(paths)
    return (paths.release(version) if version else installed) / "bin" / "kiosk"


def _forward(stream, ready: threading.Event) -> None:
    for line in stream:
        sys.stdout.write(line)
        sys.stdout.flush()
        if line.strip() == READY_LINE:
            ready.set()


def _stop(child: subprocess.Popen) -> None:
    child.terminate()
    try:
        child.wait(STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def launch(paths: ReleasePaths, installed: Path, kiosk_args: list[str], *, health_timeout_s: float = 180.0,
           max_failures: int = 3, failure_window_s: float = 600.0, clock=time.time) -> int:
    """Switch if a release is staged, run the kiosk once, judge a version on probation; its exit code."""
    paths.switch_dir.mkdir(parents=True, exist_ok=True)
    switch_if_staged(paths, clock())
    record = switch_record(paths)
    probation = (record.get("to") is not None and record.get("to") == current_version(paths)
                 and not record.get("confirmed") and record.get("outcome") is None)
    ready = threading.Event()
    environment = {**os.environ, "KIOSK_RELEASES_DIR": str(paths.releases_dir),
                   "KIOSK_RELEASE_SWITCH_DIR": str(paths.switch_dir)}  # read by kiosk.updates.boundary
    child = subprocess.Popen([str(_program(paths, installed)), *kiosk_args], stdout=subprocess.PIPE, text=True,
                             bufsize=1, env=environment)
    reader = threading.Thread(target=_forward, args=(child.stdout, ready), daemon=True)
    reader.start()
    if not probation:
        code = child.wait()
        reader.join(1)
        return code
    started = time.monotonic()
    while not ready.is_set() and child.poll() is None and time.monotonic() - started < health_timeout_s:
        ready.wait(0.2)
    if ready.is_set():
        write_json(paths.switch_dir / SWITCH_FILE, {**record, "confirmed": True, "outcome": "switched"})
        code = child.wait()
        reader.join(1)
        return code
    if child.poll() is None:  # alive but never showed the home screen
        _stop(child)
        roll_back(paths, record, f"no home screen within {health_timeout_s:g} s")
        return 1
    code = child.returncode
    now = clock()
    failures = [t for t in record.get("failures") or [] if isinstance(t, (int, float)) and now - t < failure_window_s]
    failures.append(now)
    record = {**record, "failures": failures}
    if len(failures) >= max_failures:
        roll_back(paths, record, f"crash loop: {len(failures)} exits in {failure_window_s / 60:g} min "
                                 f"before the home screen (last exit code {code})")
    else:
        write_json(paths.switch_dir / SWITCH_FILE, record)
    return code if code else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kiosk-launcher", description="Lance le kiosque de la version en service.")
    parser.add_argument("--releases-dir", type=Path, required=True)
    parser.add_argument("--switch-dir", type=Path, required=True)
    parser.add_argument("--installed", type=Path, required=True, help="l'environnement installé par les playbooks")
    parser.add_argument("--health-timeout-s", type=float, default=180.0)
    parser.add_argument("--max-failures", type=int, default=3)
    parser.add_argument("--failure-window-s", type=float, default=600.0)
    parser.add_argument("kiosk_args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    kiosk_args = args.kiosk_args[1:] if args.kiosk_args[:1] == ["--"] else args.kiosk_args
    os.umask(0o027)
    return launch(ReleasePaths(args.releases_dir.resolve(), args.switch_dir), args.installed, kiosk_args,
                  health_timeout_s=args.health_timeout_s, max_failures=args.max_failures,
                  failure_window_s=args.failure_window_s)


if __name__ == "__main__":
    sys.exit(main())
