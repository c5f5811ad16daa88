"""Central management's figures (issue 12), the part built so far: the size of the demo commune's signed
bundle, and what one pull costs on the wire (over loopback, plain HTTP: the real fleet app served by
werkzeug, the real agent pulling it), against a conditional request answered 304 (the baseline: what a
kiosk with the current bundle pays when it asks again).

Prints ONE JSON line: bundle_bytes (gzip, the demo commune's kiosk.yaml part with its bus calendar; the
national catalog and pictograms are not in bundles yet), pull_wire_bytes (request + answer of one
download, median of several), not_modified_wire_bytes (the same with If-None-Match), and
change_to_applied_s: a staff save of the bus calendar (the function the dashboard's form calls) until the
idle kiosk has applied it, median of several saves. The agent is its own process (``kiosk agent``, check-in
interval ``--interval``, 60 s by default) against the fleet app over loopback; the idle kiosk is stood in
for by the window's idle timer code (every IDLE_CHECK_S, the boundary hook's apply_staged), no window.

    .venv/bin/python bench/management.py [--samples 5] [--applied-samples 3] [--interval 60]

Not measured yet (not built): bytes_per_kiosk_month with TLS, rollback_s.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
LUCHON = "31042"


def demo_site() -> dict:
    """The demo commune's kiosk.yaml without catalog and fleet, as staff publish it."""
    import yaml
    site = yaml.safe_load((REPO / "config" / "demo" / "kiosk.yaml").read_text(encoding="utf-8"))
    site.pop("catalog", None)
    site.pop("fleet", None)
    for visit in site["help"]["bus_visits"]:
        visit["date"] = visit["date"].isoformat()
    return site


class CountingSocket:
    """Counts the bytes a client socket sends and receives (what crosses the wire, headers included)."""

    def __init__(self) -> None:
        self.sent = self.received = 0
        self._original = socket.socket

    def install(self) -> None:
        counter = self

        class Counted(socket.socket):
            """Only sockets that connect out (the client's) count: the server in this process accepts its own."""
            counting = False

            def connect(self, *args):
                self.counting = True
                return super().connect(*args)

            def send(self, data, *args):
                counter.sent += len(data) if self.counting else 0
                return super().send(data, *args)

            def sendall(self, data, *args):
                counter.sent += len(data) if self.counting else 0
                return super().sendall(data, *args)

            def recv_into(self, buffer, *args):
                count = super().recv_into(buffer, *args)
                counter.received += count if self.counting else 0
                return count

            def recv(self, *args):
                data = super().recv(*args)
                counter.received += len(data) if self.counting else 0
                return data
        socket.socket = Counted

    def total(self) -> int:
        return self.sent + self.received


def installed_config(directory: Path) -> Path:
    """/etc/kiosk as the playbooks install it: kiosk.yaml, the national catalog, every pictogram."""
    import shutil

    import yaml
    (directory / "pictograms").mkdir(parents=True)
    for source in (REPO / "config" / "pictograms", REPO / "config" / "demo" / "pictograms"):
        for picture in source.glob("*.svg"):
            shutil.copy(picture, directory / "pictograms" / picture.name)
    shutil.copy(REPO / "config" / "services.yaml", directory / "services.yaml")
    site = yaml.safe_load((REPO / "config" / "demo" / "kiosk.yaml").read_text(encoding="utf-8"))
    site["catalog"] = "services.yaml"
    (directory / "kiosk.yaml").write_text(yaml.safe_dump(site, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return directory


def change_to_applied(engine, directory: Path, port: int, samples: int, interval: int) -> list[float]:
    """Staff save → idle kiosk applied, ``samples`` times, with a real agent process checking in."""
    import datetime as dt
    import subprocess

    from kiosk.agent.bundles import applied_version, apply_staged
    from kiosk.window.run import IDLE_CHECK_S
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
            visits = management.bus_calendar(engine, LUCHON)
            day = (dt.date.today() + dt.timedelta(days=30 + sample)).isoformat()
            saved = time.monotonic()
            version = management.set_bus_calendar(engine, LUCHON, visits[:2] + [
                {"date": day, "hours": "09:30-12:00", "place": "Place de la mairie"}], "bench", time.time())
            results.append(wait_applied(version) - saved)
    finally:
        agent.terminate()
        agent.wait(timeout=30)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--applied-samples", type=int, default=3, help="saves timed until applied (0: skip)")
    parser.add_argument("--interval", type=int, default=60, help="the agent's check-in interval (seconds)")
    args = parser.parse_args()

    import logging

    from werkzeug.serving import make_server
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    from kiosk.agent import bundles_format
    from kiosk.agent.uploader import FleetClient
    from provisioning.fleet import create_app, management
    from provisioning.fleet.bundle_signing import make_key_pair
    from provisioning.fleet.enrolment import create_enrolment_code, enrol
    from provisioning.fleet.store.engine import make_engine
    from provisioning.fleet.store.migrate import upgrade

    with tempfile.TemporaryDirectory() as directory:
        directory = Path(directory)
        url = f"sqlite:///{directory / 'fleet.db'}"
        upgrade(url)
        engine = make_engine(url)
        make_key_pair(directory / "bundles.key")
        code = create_enrolment_code(engine, LUCHON, time.time(), 30, name="Bagnères-de-Luchon")
        token = enrol(engine, code, "LUCH-001", LUCHON, time.time())["token"]
        version = management.publish_site(engine, LUCHON, demo_site(), "bench", time.time())
        with engine.connect() as conn:
            bundle_bytes = len(bundles_format.encode(management.content_of(conn, LUCHON, version)))
        app = create_app({"database_url": url, "testing": True, "checkin_interval_s": args.interval,
                          "bundle_signing_key": str(directory / "bundles.key")})
        server = make_server("127.0.0.1", 0, app)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        counter = CountingSocket()
        counter.install()
        pulls, not_modified = [], []
        try:
            for _ in range(args.samples):  # alternating: a full download, then the conditional request
                for kind, samples in (("full", pulls), ("conditional", not_modified)):
                    client = FleetClient(f"http://127.0.0.1:{server.server_port}")
                    before = counter.total()
                    headers = {"If-None-Match": f'"{LUCHON}-{version}"'} if kind == "conditional" else {}
                    status, _, _ = client.get(bundles_format.BUNDLE_PATH, token, headers)
                    client.close()
                    assert status == (200 if kind == "full" else 304), status
                    samples.append(counter.total() - before)
        finally:
            socket.socket = counter._original
        try:
            applied = change_to_applied(engine, directory, server.server_port, args.applied_samples, args.interval)
        finally:
            server.shutdown()
            app.extensions["fleet_engine"].dispose()
            engine.dispose()
    print(json.dumps({"bundle_bytes": bundle_bytes, "pull_wire_bytes": int(statistics.median(pulls)),
                      "not_modified_wire_bytes": int(statistics.median(not_modified)),
                      "change_to_applied_s": round(statistics.median(applied), 1) if applied else None,
                      "change_to_applied_samples_s": [round(value, 1) for value in applied],
                      "checkin_interval_s": args.interval, "samples": args.samples}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
