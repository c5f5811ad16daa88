"""Helpers and fixtures for the telemetry tests: a migrated store on SQLite and PostgreSQL, a real fleet server
process (gunicorn over loopback), enrolment, and a small HTTP client for check-ins.

PostgreSQL tests read KIOSK_TEST_POSTGRES_URL (``./dev test`` starts the server and exports it) and are
skipped, with that reason, only when it is unset. Each test gets its own PostgreSQL schema.
"""

from __future__ import annotations

import gzip
import http.client
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from postgres_schemas import postgres_schema

PYTHON = sys.executable
INSEE = "65059"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request, tmp_path):
    """A migrated, empty store; the URL is handed to the server and to the store functions."""
    from provisioning.fleet.store.migrate import upgrade

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'fleet.db'}"
        upgrade(url)
        yield url
        return
    with postgres_schema("t") as url:
        upgrade(url)
        yield url


@pytest.fixture
def engine(db_url):
    from provisioning.fleet.store.engine import make_engine
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


def new_code(engine, insee: str = INSEE, name: str = "Bagnères-de-Luchon") -> str:
    from provisioning.fleet.enrolment import create_enrolment_code
    return create_enrolment_code(engine, insee, time.time(), 30, name=name)


@dataclass
class FleetServer:
    """A real ``gunicorn`` serving the fleet app on a loopback port."""

    db_url: str
    workers: int = 2
    extra_env: dict = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    certfile: str | None = None
    keyfile: str | None = None
    process: subprocess.Popen | None = None
    log_path: Path | None = None

    @property
    def url(self) -> str:
        scheme = "https" if self.certfile else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    def start(self) -> "FleetServer":
        env = dict(os.environ, FLEET_DATABASE_URL=self.db_url, FLEET_SECRET_KEY=secrets.token_urlsafe(32),
                   **self.extra_env)
        command = [PYTHON, "-m", "gunicorn", "--workers", str(self.workers), "--bind", f"127.0.0.1:{self.port}",
                   "--graceful-timeout", "2", "--log-level", "warning"]
        if self.certfile:
            command += ["--certfile", self.certfile, "--keyfile", self.keyfile]
        command.append("provisioning.fleet:create_app()")
        log = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        try:
            self.process = subprocess.Popen(command, env=env, stdout=log, stderr=log, start_new_session=True)
        finally:
            if self.log_path:
                log.close()   # the child keeps its own copy
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("gunicorn did not start listening in 20 s")

    def kill9(self) -> None:
        """SIGKILL the master and its workers at once (a power cut for the server)."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill9()


@pytest.fixture
def fleet_server(db_url, tmp_path):
    """Factory: ``fleet_server(**options)`` starts gunicorn on the test's store; all stopped at the end."""
    started: list[FleetServer] = []

    def start(**options) -> FleetServer:
        server = FleetServer(db_url, log_path=tmp_path / f"gunicorn-{len(started)}.log", **options).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def post(url: str, path: str, body: bytes, headers: dict, ca_file: str | None = None) -> tuple[int, dict]:
    """One HTTP POST over loopback; returns (status, parsed JSON body)."""
    from urllib.parse import urlsplit
    import ssl
    parts = urlsplit(url)
    if parts.scheme == "https":
        connection = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=30,
                                                 context=ssl.create_default_context(cafile=ca_file))
    else:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        connection.close()


def checkin_body(records: list[dict], sent_at: float | None = None) -> bytes:
    return gzip.compress(json.dumps({"protocol": 1, "sent_at": sent_at or time.time(), "records": records}).encode())


def checkin(url: str, token: str, records: list[dict]) -> tuple[int, dict]:
    return post(url, "/api/v1/checkin", checkin_body(records),
                {"Authorization": f"Bearer {token}", "Content-Type": "application/json", "Content-Encoding": "gzip"})


def enrol(url: str, code: str, asset_tag: str = "AB-0042", insee: str = INSEE) -> tuple[int, dict]:
    body = json.dumps({"protocol": 1, "code": code, "asset_tag": asset_tag, "commune_insee": insee}).encode()
    return post(url, "/api/v1/enrol", body, {"Content-Type": "application/json"})


def health_record(seq: int, at: float | None = None, cpu: float = 12.5) -> dict:
    return {"seq": seq, "at": at or time.time(), "type": "health",
            "data": {"cpu_percent": cpu, "memory_used_percent": 41.0, "disk_used_percent": 63.2,
                     "memory_available_bytes": 1_200_000_000, "uptime_s": 3600.0, "kiosk_restarts": 0}}


def usage_record(seq: int, day: str, counters: list, at: float | None = None) -> dict:
    return {"seq": seq, "at": at or time.time(), "type": "usage", "data": {"day": day, "counters": counters}}


def stored_counts(engine) -> dict[str, int]:
    from sqlalchemy import func, select

    from provisioning.fleet.store import schema
    with engine.connect() as connection:
        return {table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
                for table in (schema.health_batches, schema.usage_reports, schema.usage_daily,
                              schema.inventory_reports, schema.health_hourly, schema.devices)}


def write_agent_settings(directory: Path, fleet_url: str, code: str | None, **extra) -> Path:
    """An agent.yaml as provisioning renders it, in ``directory``."""
    code_file = directory / "enrolment-code"
    if code is not None:
        code_file.write_text(code + "\n")
    settings = {"fleet_url": fleet_url, "asset_tag": "AB-0042", "commune_insee": INSEE,
                "enrolment_code_file": str(code_file), "state_dir": str(directory / "state"),
                "events_dir": str(directory / "events"), **extra}
    import yaml
    path = directory / "agent.yaml"
    path.write_text(yaml.safe_dump(settings))
    return path
