"""Kiosk software updates' figure (issue 12): rollback_s, from a bad release published to the kiosk back
on its previous version, against a good release published to the kiosk running it (the baseline, same
run, alternating samples, medians).

Real parts over loopback: the fleet app (werkzeug, SQLite store), ``releases.publish`` of a real wheel,
the real agent (check-in, download, signature and sha256 checks, ``pip --no-index`` into a new virtual
environment), and the real launcher as its own process, started again after each exit with the session
unit's restart delay (systemd's Restart=always, RestartSec). The bad release's kiosk exits at start (the
issue's case: a crash loop, rolled back after ``--max-failures`` exits); the check-in interval is not
counted (the agent checks in right after the publication).

    .venv/bin/python bench/updates.py [--samples 3] [--restart-delay-s 2]

Prints ONE JSON line: rollback_s and good_switch_s (medians), samples, restart_delay_s, max_failures.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import types
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests"), str(REPO / "tests" / "updates")]
LUCHON = "31042"
READY = "Accueil affiché."


def launch_until(paths, installed: Path, restart_delay_s: float, max_failures: int, done) -> None:
    """Start the launcher again and again like the session unit does, until ``done(output)``."""
    for _ in range(20):
        run = subprocess.run([sys.executable, "-m", "kiosk.updates.launcher", "--releases-dir", str(paths.releases_dir),
                              "--switch-dir", str(paths.switch_dir), "--installed", str(installed),
                              "--max-failures", str(max_failures), "--health-timeout-s", "60", "--", "run", "/etc/kiosk"],
                             capture_output=True, text=True, timeout=120)
        if done(run.stdout):
            return
        time.sleep(restart_delay_s)
    raise RuntimeError("the kiosk never reached the expected version")


@contextlib.contextmanager
def release_rig(root: Path, checkin_interval_s: int = 300):
    """The real parts over loopback, ready for releases: the fleet app (werkzeug, SQLite store, telling the
    kiosks ``checkin_interval_s``), its signing key, an enrolled real agent (its first check-in done) and
    the kiosk's release directories with the installed version. Yields a namespace (engine, key, agent,
    paths, installed, root); stops everything on exit. bench/management.py uses it too."""
    import logging
    logging.disable(logging.WARNING)
    from werkzeug.serving import make_server

    from kiosk.agent.runner import Agent
    from kiosk.agent.settings import AgentSettings
    from kiosk.updates.layout import ReleasePaths
    from provisioning.fleet import create_app
    from provisioning.fleet.bundle_signing import load_private_key, make_key_pair
    from provisioning.fleet.enrolment import create_enrolment_code
    from provisioning.fleet.store.engine import make_engine
    from provisioning.fleet.store.migrate import upgrade
    from release_helpers import fake_release

    url = f"sqlite:///{root / 'fleet.db'}"
    upgrade(url)
    engine = make_engine(url)
    public_key = make_key_pair(root / "fleet.key")
    app = create_app({"database_url": url, "testing": True, "secret_key": "bench-" + "k" * 40,
                      "checkin_interval_s": checkin_interval_s,
                      "bundle_signing_key": str(root / "fleet.key"), "releases_dir": str(root / "server")})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    (root / "code").write_text(create_enrolment_code(engine, LUCHON, time.time(), 30, name="Bagnères-de-Luchon"))
    settings = AgentSettings(
        fleet_url=f"http://127.0.0.1:{server.server_port}", asset_tag="LUCH-001", commune_insee=LUCHON,
        enrolment_code_file=root / "code", state_dir=root / "agent", events_dir=root / "events",
        interval_s=checkin_interval_s,
        bundle_public_key=public_key, bundle_dir=root / "bundles", config_dir=root / "etc-kiosk",
        releases_dir=root / "releases", release_staging_dir=root / "staging", release_switch_dir=root / "switch")
    agent = Agent(settings)
    rig = types.SimpleNamespace(engine=engine, key=load_private_key(root / "fleet.key"), agent=agent,
                                paths=ReleasePaths(root / "releases", root / "switch"),
                                installed=fake_release(root, "installed", "good"), root=root)
    agent.record()
    assert agent.upload()
    try:
        yield rig
    finally:
        agent.close()
        server.shutdown()
        server.server_close()
        engine.dispose()
        app.extensions["fleet_engine"].dispose()


def publish(rig, version: str, behaviour: str) -> None:
    """Build a real wheel of ``version`` (``good`` or ``crash``) and publish it to every ring."""
    from provisioning.fleet import releases
    from release_helpers import build_wheel
    build_wheel(rig.root / f"wheelhouse-{version}", version, behaviour)
    releases.publish(rig.engine, rig.root / "server", rig.root / f"wheelhouse-{version}", version, rig.key, "bench")
    releases.promote(rig.engine, version, "tous", "bench")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--restart-delay-s", type=float, default=2.0)
    parser.add_argument("--max-failures", type=int, default=3)
    args = parser.parse_args()

    from kiosk.updates.layout import current_version

    with tempfile.TemporaryDirectory(prefix="bench-updates-") as temporary, release_rig(Path(temporary)) as rig:
        timings: dict[str, list[float]] = {"bad": [], "good": []}
        for index in range(args.samples * 2):
            kind = "good" if index % 2 == 0 else "bad"
            version = f"7.{index}.0"
            before = current_version(rig.paths)
            started = time.monotonic()
            publish(rig, version, "good" if kind == "good" else "crash")
            rig.agent.record()
            assert rig.agent.upload() and rig.paths.is_installed(version), f"release {version} not installed"
            if kind == "good":
                launch_until(rig.paths, rig.installed, args.restart_delay_s, args.max_failures,
                             lambda out: READY in out and f"kiosk {version}" in out)
            else:
                expected = f"kiosk {before}" if before else "kiosk installed"
                launch_until(rig.paths, rig.installed, args.restart_delay_s, args.max_failures,
                             lambda out: READY in out and expected in out)
            timings[kind].append(time.monotonic() - started)
    print(json.dumps({"rollback_s": round(statistics.median(timings["bad"]), 2),
                      "good_switch_s": round(statistics.median(timings["good"]), 2), "samples": args.samples,
                      "restart_delay_s": args.restart_delay_s, "max_failures": args.max_failures}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
