"""Central management's figures (issue 12). Prints ONE JSON line:

* ``bundle_bytes``: the gzip'd signed payload of the demo commune's bundle WITH the full national catalog
  and every pictogram (what ``GET /api/v1/bundle`` sends), as published by ``fleet catalog import`` and
  ``fleet bundle publish``.
* ``bytes_per_kiosk_month``: bytes on the wire, TLS included, for one kiosk over 30 days: check-ins at
  the server's default interval (``checkin_interval_s``, 300 s) plus one bundle change a week. MEASURED
  per exchange, then EXTRAPOLATED: the real agent (in this process, trusting the fleet's certificate
  through ``ca_file`` as a kiosk does) checks in through a loopback TCP forwarder that counts every byte
  both ways (TLS handshakes, records and alerts included; bench/wire_count.py) in front of the fleet app
  served over TLS by werkzeug. ``checkin_wire_bytes`` is the median of plain check-ins (one health
  sample recorded before each, as the agent records once per interval; each check-in on a new
  connection, resuming the TLS session, as the agent does); ``bundle_change_wire_bytes`` the median
  extra of a check-in that learns of a new bundle (a bus-calendar edit), downloads it and reports it.
  Month = (30 × 86400 / interval) × checkin_wire_bytes + (30 / 7) × bundle_change_wire_bytes.
* ``change_to_applied_s``: a staff save of the bus calendar until the idle kiosk has applied it, with a
  real ``kiosk agent`` process checking in every ``--interval`` s (60 by default) over loopback; the idle
  kiosk is the window's idle timer code (every IDLE_CHECK_S, the boundary hook's apply_staged).
* ``rollback_s``: a bad release (its kiosk exits at start) published until the kiosk is back on its
  previous version, the WAIT FOR THE NEXT CHECK-IN INCLUDED: the real agent runs its own loop at a
  ``--interval`` s check-in interval (the server tells it so), the publication comes at a random moment
  of that interval, and the launcher is restarted like the session unit does (bench/updates.py's
  machinery, imported).

Several samples of each, medians (the samples are listed too).

    .venv/bin/python bench/management.py [--samples 5] [--applied-samples 3] [--rollback-samples 3] [--interval 60]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests"), str(REPO / "tests" / "management"), str(REPO / "tests" / "updates")]
LUCHON = "31042"
MONTH_S = 30 * 86400
CHANGES_PER_MONTH = 30 / 7


def new_visits(engine, sample: int) -> list[dict]:
    import datetime as dt

    from provisioning.fleet import management
    day = (dt.date.today() + dt.timedelta(days=30 + sample)).isoformat()
    return management.bus_calendar(engine, LUCHON)[:2] + [{"date": day, "hours": "09:30-12:00", "place": "Place de la mairie"}]


def wire_bytes(directory: Path, engine, url: str, samples: int) -> tuple[list[int], list[int]]:
    """(plain check-ins, bundle changes' extra) measured on the wire through TLS; see the docstring."""
    import ssl

    from werkzeug.serving import make_server

    from kiosk.agent.bundles import apply_staged
    from kiosk.agent.runner import Agent
    from kiosk.agent.settings import AgentSettings
    from management_helpers import installed_config
    from provisioning.fleet import create_app, management
    from provisioning.fleet.bundle_signing import public_path
    from provisioning.fleet.enrolment import create_enrolment_code
    from wire_count import CountingForwarder, self_signed

    cert, key = self_signed(directory)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2  # as the role's nginx: TLS 1.2 and 1.3
    context.load_cert_chain(cert, key)
    app = create_app({"database_url": url, "testing": True, "bundle_signing_key": str(directory / "bundles.key")})
    server = make_server("127.0.0.1", 0, app, threaded=True, ssl_context=context)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    forwarder = CountingForwarder(server.server_port)
    (directory / "code-wire").write_text(create_enrolment_code(engine, LUCHON, time.time(), 30, name="Bagnères-de-Luchon"))
    agent = Agent(AgentSettings(
        fleet_url=f"https://127.0.0.1:{forwarder.port}", ca_file=cert, asset_tag="LUCH-003", commune_insee=LUCHON,
        enrolment_code_file=directory / "code-wire", state_dir=directory / "wire-agent",
        events_dir=directory / "wire-events", bundle_public_key=public_path(directory / "bundles.key"),
        bundle_dir=directory / "wire-bundles", config_dir=installed_config(directory / "wire-etc-kiosk")))
    plain, changes = [], []

    def exchange() -> int:
        before = forwarder.settled_total()
        agent.record()
        assert agent.upload(), "check-in failed"
        return forwarder.settled_total() - before
    try:
        exchange()  # enrols and pulls the current bundle: not counted
        apply_staged(directory / "wire-bundles")
        exchange()  # reports it
        for sample in range(samples):  # alternating: a plain check-in, then one that brings a change
            plain.append(exchange())
            management.set_bus_calendar(engine, LUCHON, new_visits(engine, 100 + sample), "bench", time.time())
            changes.append(exchange() - plain[-1])
            apply_staged(directory / "wire-bundles")
            exchange()  # the check-in after the boundary (nothing new to report: not counted)
    finally:
        agent.close()
        forwarder.close()
        server.shutdown()
        app.extensions["fleet_engine"].dispose()
    return plain, changes


def change_to_applied(engine, directory: Path, port: int, samples: int, interval: int) -> list[float]:
    """Staff save → idle kiosk applied, ``samples`` times, with a real agent process checking in."""
    from kiosk.agent.bundles import applied_version, apply_staged
    from kiosk.window.run import IDLE_CHECK_S
    from management_helpers import installed_config
    from provisioning.fleet import management
    from provisioning.fleet.bundle_signing import public_path
    from provisioning.fleet.enrolment import create_enrolment_code
    if samples <= 0:
        return []
    config_dir = installed_config(directory / "etc-kiosk")
    bundle_dir = directory / "bundles"
    code = create_enrolment_code(engine, LUCHON, time.time(), 30, name="Bagnères-de-Luchon")
    (directory / "code").write_text(code)
    settings = {"fleet_url": f"http://127.0.0.1:{port}", "asset_tag": "LUCH-002", "commune_insee": LUCHON,
                "enrolment_code_file": str(directory / "code"), "state_dir": str(directory / "agent-state"),
                "events_dir": str(directory / "events"), "interval_s": interval,
                "bundle_public_key": str(public_path(directory / "bundles.key")), "bundle_dir": str(bundle_dir),
                "config_dir": str(config_dir)}
    (directory / "agent.yaml").write_text(json.dumps(settings))
    agent = subprocess.Popen([sys.executable, "-m", "kiosk.cli", "agent", "--settings", str(directory / "agent.yaml")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)
    results = []
    try:
        def wait_applied(version: int) -> float:
            """The idle kiosk's timer: every IDLE_CHECK_S since its start, apply what is staged."""
            next_tick = kiosk_started + IDLE_CHECK_S * (int((time.monotonic() - kiosk_started) / IDLE_CHECK_S) + 1)
            deadline = time.monotonic() + 4 * interval + 2 * IDLE_CHECK_S
            while time.monotonic() < deadline:
                time.sleep(max(0.0, next_tick - time.monotonic()))
                apply_staged(bundle_dir)
                if applied_version(bundle_dir) == version:
                    return time.monotonic()
                next_tick += IDLE_CHECK_S
            raise RuntimeError(f"version {version} not applied within {4 * interval + 2 * IDLE_CHECK_S} s")

        kiosk_started = time.monotonic()
        wait_applied(management.history(engine, LUCHON, 1)[0].version)  # the agent enrolled and has the current one
        for sample in range(samples):
            saved = time.monotonic()
            version = management.set_bus_calendar(engine, LUCHON, new_visits(engine, sample), "bench", time.time())
            results.append(wait_applied(version) - saved)
    finally:
        agent.terminate()
        agent.wait(timeout=30)
    return results


def rollback(samples: int, interval: int, restart_delay_s: float = 2.0, max_failures: int = 3) -> list[float]:
    """Bad release published → kiosk back on its previous version, the agent's own check-in loop included."""
    from updates import READY, launch_until, publish, release_rig
    if samples <= 0:
        return []
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-mgmt-rollback-") as temporary, \
            release_rig(Path(temporary), checkin_interval_s=interval) as rig:
        from kiosk.agent.clock import SystemClock
        from kiosk.agent.runner import Agent
        stop = threading.Event()

        def agent_loop() -> None:  # the agent's spool is SQLite: the looping agent is made in its thread
            agent = Agent(rig.agent.settings, clock=SystemClock(stop))  # its sleep ends at stop
            try:
                agent.run(stop)
            finally:
                agent.close()
        loop = threading.Thread(target=agent_loop, daemon=True)
        loop.start()
        try:
            for sample in range(samples):
                time.sleep(random.uniform(0, interval))  # the publication falls anywhere in the interval
                version = f"9.{sample}.0"
                started = time.monotonic()
                publish(rig, version, "crash")
                deadline = started + 3 * interval + 300
                while not rig.paths.is_installed(version):
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"release {version} never installed by the agent")
                    time.sleep(0.2)
                launch_until(rig.paths, rig.installed, restart_delay_s, max_failures,
                             lambda out: READY in out and "kiosk installed" in out)
                results.append(time.monotonic() - started)
        finally:
            stop.set()
            loop.join(timeout=120)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=5, help="wire measurements (plain and change check-ins)")
    parser.add_argument("--applied-samples", type=int, default=3, help="saves timed until applied (0: skip)")
    parser.add_argument("--rollback-samples", type=int, default=3, help="bad releases timed until rolled back (0: skip)")
    parser.add_argument("--interval", type=int, default=60, help="check-in interval (s) for the two timings")
    args = parser.parse_args()

    import logging

    from werkzeug.serving import make_server
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    from kiosk.agent import bundles_format
    from management_helpers import catalog_files, demo_site
    from provisioning.fleet import catalog, create_app, management
    from provisioning.fleet.bundle_signing import make_key_pair
    from provisioning.fleet.settings import Settings
    from provisioning.fleet.store.engine import make_engine
    from provisioning.fleet.store.migrate import upgrade

    default_interval = Settings.__dataclass_fields__["checkin_interval_s"].default
    with tempfile.TemporaryDirectory(prefix="bench-mgmt-") as directory:
        directory = Path(directory)
        url = f"sqlite:///{directory / 'fleet.db'}"
        upgrade(url)
        engine = make_engine(url)
        make_key_pair(directory / "bundles.key")
        catalog.publish(engine, *catalog_files(), "bench", time.time())
        version = management.publish_site(engine, LUCHON, demo_site(), "bench", time.time())
        with engine.connect() as conn:
            document = management.bundle_document(conn, management.content_of(conn, LUCHON, version))
        bundle_bytes = len(bundles_format.encode(document))
        plain, changes = wire_bytes(directory, engine, url, args.samples)
        app = create_app({"database_url": url, "testing": True, "checkin_interval_s": args.interval,
                          "bundle_signing_key": str(directory / "bundles.key")})
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            applied = change_to_applied(engine, directory, server.server_port, args.applied_samples, args.interval)
        finally:
            relay = app.extensions.get("assist_relay")
            if relay is not None:  # the agent's assistance long poll may still wait: it answers now
                relay.stop()
            server.shutdown()
            app.extensions["fleet_engine"].dispose()
            engine.dispose()
    rolled_back = rollback(args.rollback_samples, args.interval)
    checkin, change = statistics.median(plain), statistics.median(changes)
    month = MONTH_S / default_interval * checkin + CHANGES_PER_MONTH * change
    print(json.dumps({
        "bundle_bytes": bundle_bytes, "pictograms": len(document["pictograms"]),
        "services": len(document["catalog"]["services"]),
        "bytes_per_kiosk_month": int(month), "checkin_wire_bytes": int(checkin),
        "bundle_change_wire_bytes": int(change), "default_checkin_interval_s": default_interval,
        "change_to_applied_s": round(statistics.median(applied), 1) if applied else None,
        "change_to_applied_samples_s": [round(value, 1) for value in applied],
        "rollback_s": round(statistics.median(rolled_back), 1) if rolled_back else None,
        "rollback_samples_s": [round(value, 1) for value in rolled_back],
        "checkin_interval_s": args.interval, "samples": args.samples}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
