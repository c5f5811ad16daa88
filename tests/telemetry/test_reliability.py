"""Reliability with real processes over loopback: a day offline, kill -9 of the agent during an upload
and of the server during an ingest, and real TLS. Every record arrives exactly once."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
import yaml
from sqlalchemy import func, select

from telemetry_helpers import FleetServer, new_code, write_agent_settings
from kiosk.agent.clock import FakeClock
from kiosk.agent.runner import Agent
from kiosk.agent.settings import load_agent_settings
from kiosk.agent.spool import Spool
from kiosk.events import Event, EventKind, EventLog
from provisioning.fleet.store import raw_health, schema
from provisioning.fleet.store.readmodel import fold_usage
from provisioning.fleet.store.staff_schema import usage_commune_daily


def _server_seqs(engine, table=None) -> list[int]:
    """Sequence numbers stored in ``table``; raw health samples when None."""
    with engine.connect() as connection:
        if table is None:
            return raw_health.stored_seqs(connection)
        return connection.execute(select(table.c.seq)).scalars().all()


def _server_usage(engine) -> Counter:
    """Usage counts as the server keeps them: per commune and day (every metric); the machine's own
    metrics are also kept per device, and must agree."""
    fold_usage(engine)  # the check-in workers fold the inbox about once a second: bring it up to date

    def totals(table):
        with engine.connect() as connection:
            rows = connection.execute(select(table.c.metric, table.c.key, func.sum(table.c.count))
                                      .group_by(table.c.metric, table.c.key)).all()
        return Counter({(metric, key): int(total) for metric, key, total in rows})

    per_commune = totals(usage_commune_daily)
    per_device = totals(schema.usage_daily)
    assert per_device == Counter({slot: count for slot, count in per_commune.items()
                                  if slot[0] in schema.DEVICE_USAGE_METRICS})
    return per_commune


def _all_server_seqs(engine) -> list[int]:
    return sorted(_server_seqs(engine) + _server_seqs(engine, schema.usage_reports)
                  + _server_seqs(engine, schema.inventory_reports))


def _spool_max_seq(state_dir) -> int:
    spool = Spool(state_dir / "spool.db")
    try:
        row = spool.db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'records'").fetchone()
        return row[0] if row else 0
    finally:
        spool.close()


def test_a_day_offline_then_every_record_arrives_exactly_once(fleet_server, engine, tmp_path):
    server = fleet_server()
    settings_path = write_agent_settings(tmp_path, server.url, new_code(engine))
    settings = load_agent_settings(settings_path)
    clock = FakeClock(time.time() - 2 * 86400)
    agent = Agent(settings, clock=clock, rng=random.Random(4))
    window = EventLog(settings.events_dir)
    emitted: Counter = Counter()

    def one_cycle() -> None:
        # the window keeps being used while the agent works: a session every cycle
        window.emit(Event(EventKind.SESSION_STARTED, clock.time()))
        window.emit(Event(EventKind.TILE_OPENED, clock.time() + 1, tile_id="ameli"))
        window.emit(Event(EventKind.SESSION_ENDED, clock.time() + 2, duration_s=400.0))
        emitted.update({("sessions", ""): 1, ("tile_opened", "ameli"): 1, ("session_length", "5-15m"): 1})
        agent.run(max_cycles=1)

    for _ in range(3):
        one_cycle()
    assert agent.credentials is not None and not settings.enrolment_code_file.exists()
    assert (settings.state_dir / "token.json").stat().st_mode & 0o777 == 0o600
    server.stop()
    start = clock.time()
    while clock.time() < start + 86400:      # a simulated day without the server
        one_cycle()
    assert agent.failures > 0 and agent.spool.count("health") >= 280
    fleet_server(port=server.port)           # the server comes back on the same address
    for _ in range(3):
        one_cycle()
    clock.sleep(agent.backoff_s() + agent.upload_interval_s * 1.2)
    one_cycle()
    assert agent.spool.pending() == 0
    created = _spool_max_seq(settings.state_dir)
    assert _all_server_seqs(engine) == list(range(1, created + 1))    # every record, exactly once
    assert _server_usage(engine) == emitted
    agent.close()


def _prefill(state_dir, health: int, usage_batches: int) -> Counter:
    spool = Spool(state_dir / "spool.db")
    expected: Counter = Counter()
    base = time.time() - 3600
    spool.db.execute("BEGIN")
    for index in range(health):
        spool._insert("health", base + index * 0.1, {"cpu_percent": 5.0, "load1": 0.1})
    for index in range(usage_batches):
        spool._insert("usage", base, {"day": time.strftime("%Y-%m-%d"), "counters": [["pages_printed", "", 2]]},
                      day=time.strftime("%Y-%m-%d"))
        expected[("pages_printed", "")] += 2
    spool.db.execute("COMMIT")
    spool.close()
    return expected


def _drain(settings_path) -> Agent:
    agent = Agent(load_agent_settings(settings_path))
    for _ in range(20):
        if agent.upload():
            break
        time.sleep(0.5)
    return agent


def test_kill_9_of_the_agent_during_uploads_loses_and_duplicates_nothing(fleet_server, engine, tmp_path):
    server = fleet_server()
    settings_path = write_agent_settings(tmp_path, server.url, new_code(engine), interval_s=1)
    (tmp_path / "state").mkdir(mode=0o700)
    expected_usage = _prefill(tmp_path / "state", health=30000, usage_batches=1000)
    total = 31000
    mid_upload_kills = 0
    rng = random.Random(7)
    for _ in range(8):
        start = len(_all_server_seqs(engine))
        with open(tmp_path / "agent.log", "ab") as log:
            agent = subprocess.Popen([sys.executable, "-m", "kiosk.cli", "agent", "--settings", str(settings_path)],
                                     stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.time() + 20
        while len(_all_server_seqs(engine)) == start and time.time() < deadline:
            time.sleep(0.01)                      # wait until this run's upload is under way...
        time.sleep(rng.uniform(0.0, 0.15))        # ...then kill it somewhere inside
        agent.send_signal(signal.SIGKILL)
        agent.wait(timeout=10)
        after = len(_all_server_seqs(engine))
        if start < after < total:
            mid_upload_kills += 1
        if after >= total or mid_upload_kills >= 4:
            break
    assert mid_upload_kills >= 1, (tmp_path / "agent.log").read_text()[-3000:]
    agent = _drain(settings_path)
    assert agent.spool.pending() == 0
    agent.close()
    created = _spool_max_seq(tmp_path / "state")
    assert _all_server_seqs(engine) == list(range(1, created + 1))
    assert _server_usage(engine)[("pages_printed", "")] == expected_usage[("pages_printed", "")]


def test_kill_9_of_the_server_during_ingest_loses_and_duplicates_nothing(fleet_server, engine, tmp_path):
    server = fleet_server()
    settings_path = write_agent_settings(tmp_path, server.url, new_code(engine), interval_s=1)
    (tmp_path / "state").mkdir(mode=0o700)
    expected_usage = _prefill(tmp_path / "state", health=8000, usage_batches=500)
    import threading
    finished = threading.Event()
    outcome: dict = {}

    def upload_until_drained() -> None:
        agent = Agent(load_agent_settings(settings_path))   # SQLite objects stay in their thread
        agent.batch_size = 250
        try:
            while not agent.upload():
                time.sleep(0.2)
            outcome["pending"] = agent.spool.pending()
            finished.set()
        finally:
            agent.close()

    uploader = threading.Thread(target=upload_until_drained, daemon=True)
    uploader.start()
    kills = 0
    total = 8500
    for _ in range(3):
        start = len(_all_server_seqs(engine))
        deadline = time.time() + 20
        while len(_all_server_seqs(engine)) == start and time.time() < deadline:
            time.sleep(0.01)                    # ingest under way...
        time.sleep(random.uniform(0.0, 0.1))
        if finished.is_set():
            break
        server.kill9()                          # ...kill master and workers, mid-transaction
        if len(_all_server_seqs(engine)) < total:
            kills += 1
        time.sleep(0.3)
        server = fleet_server(port=server.port)
    uploader.join(timeout=120)
    assert finished.is_set() and kills >= 1
    assert outcome["pending"] == 0
    created = _spool_max_seq(tmp_path / "state")
    assert _all_server_seqs(engine) == list(range(1, created + 1))
    assert _server_usage(engine) == expected_usage


def _self_signed(tmp_path):
    """A CA and a server certificate for 127.0.0.1, made here with the cryptography package."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Fleet test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = {name: tmp_path / f"{name}.pem" for name in ("ca", "cert", "key")}
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths["key"].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    return paths


def test_real_tls_on_loopback_with_the_ca_file(db_url, engine, tmp_path):
    tls = _self_signed(tmp_path)
    server = FleetServer(db_url, certfile=str(tls["cert"]), keyfile=str(tls["key"])).start()
    try:
        # Without the CA file the certificate is refused: nothing is sent, records are kept.
        untrusting = tmp_path / "untrusting"
        untrusting.mkdir()
        path = write_agent_settings(untrusting, server.url, new_code(engine))
        agent = Agent(load_agent_settings(path), clock=FakeClock(time.time()))
        agent.record()
        assert agent.upload() is False and agent.spool.pending() >= 1 and agent.credentials is None
        agent.close()
        # With the CA file: enrolment and check-in over TLS.
        path = write_agent_settings(tmp_path, server.url, new_code(engine), ca_file=str(tls["ca"]))
        assert yaml.safe_load(path.read_text())["fleet_url"].startswith("https://")
        agent = Agent(load_agent_settings(path), clock=FakeClock(time.time()))
        agent.record()
        assert agent.upload() is True and agent.spool.pending() == 0
        agent.close()
        assert len(_server_seqs(engine)) == 1
    finally:
        server.stop()


def test_each_upload_opens_a_new_tls_connection_that_resumes_the_previous_session(tmp_path):
    """No connection outlives an upload; the next one offers the TLS session, which a server keeping
    sessions (nginx's shared cache, in production) resumes: no certificate nor signature again."""
    import http.server
    import json
    import ssl
    import threading

    from kiosk.agent.uploader import FleetClient

    tls = _self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(tls["cert"]), str(tls["key"]))
    handshakes: list[bool] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            handshakes.append(self.connection.session_reused)
            body = json.dumps({"ok": True}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"https://127.0.0.1:{server.server_address[1]}"
        agent_client = FleetClient(url, tls["ca"])
        for _ in range(3):                        # three uploads, each closing its connection
            assert agent_client.post("/api/v1/checkin", {"protocol": 1}).status == 200
            agent_client.close()
        FleetClient(url, tls["ca"]).post("/api/v1/checkin", {"protocol": 1})   # a restarted agent: no session
        assert handshakes == [False, True, True, False]
    finally:
        server.shutdown()
        server.server_close()


def test_backoff_grows_with_jitter_and_stays_capped(tmp_path):
    path = write_agent_settings(tmp_path, "https://fleet.example.org", "x" * 43, interval_s=300)
    agent = Agent(load_agent_settings(path), rng=random.Random(1))
    delays = []
    for failures in range(1, 12):
        agent.failures = failures
        delays.append(agent.backoff_s())
    assert 15 <= delays[0] <= 30 and delays[3] > delays[0] * 2
    assert max(delays) <= 3600 and delays[-1] >= 1800
    assert len({round(delay, 3) for delay in delays}) == len(delays)   # jittered
    agent.close()
