"""Central management's figures (issue 12), the part built so far: the size of the demo commune's signed
bundle, and what one pull costs on the wire (over loopback, plain HTTP: the real fleet app served by
werkzeug, the real agent pulling it), against a conditional request answered 304 (the baseline: what a
kiosk with the current bundle pays when it asks again).

Prints ONE JSON line: bundle_bytes (gzip, the demo commune's kiosk.yaml part with its bus calendar; the
national catalog and pictograms are not in bundles yet), pull_wire_bytes (request + answer of one
download, median of several), not_modified_wire_bytes (the same with If-None-Match).

    .venv/bin/python bench/management.py [--samples 5]

Not measured yet (not built): bytes_per_kiosk_month with TLS, change_to_applied_s, rollback_s.
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=5)
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
        app = create_app({"database_url": url, "testing": True,
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
            server.shutdown()
            app.extensions["fleet_engine"].dispose()
            engine.dispose()
    print(json.dumps({"bundle_bytes": bundle_bytes, "pull_wire_bytes": int(statistics.median(pulls)),
                      "not_modified_wire_bytes": int(statistics.median(not_modified)),
                      "samples": args.samples}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
