"""Fixtures for the dashboard tests: a fleet server (the real app factory) on SQLite and PostgreSQL,
filled through the real API (enrolment and gzip check-ins), with one account per role.

Two communes: Bagnères-de-Luchon (31042, a zone blanche expected once a day) and Lourdes (65286,
expected every hour). The ``commune`` account belongs to Luchon: nothing of Lourdes may reach it.
PostgreSQL runs read KIOSK_TEST_POSTGRES_URL and are skipped, with that reason, only when it is unset.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from postgres_schemas import postgres_schema

SHARED_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
LUCHON, LOURDES = "31042", "65286"
# Strings that identify Lourdes' machines and figures: a Luchon account must never receive them.
LOURDES_MARKERS = ("LOUR-", "Lourdes", LOURDES, "4242")
ROLES = ("admin", "staff", "commune")


@dataclass
class Fleet:
    app: object
    url: str
    passwords: dict = field(default_factory=dict)
    tokens: dict = field(default_factory=dict)

    def client(self, role: str | None = None):
        client = self.app.test_client()
        if role:
            response = login(client, role, self.passwords[role])
            assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or \
        re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def login(client, username: str, password: str, ip: str = "127.0.0.1"):
    page = client.get("/connexion", environ_base={"REMOTE_ADDR": ip})
    return client.post("/connexion", data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                                           "username": username, "password": password},
                       environ_base={"REMOTE_ADDR": ip})


@contextmanager
def database(kind: str, directory: Path):
    from provisioning.fleet.store.migrate import upgrade
    if kind == "sqlite":
        url = f"sqlite:///{directory / 'fleet.db'}"
        upgrade(url)
        yield url
        return
    with postgres_schema("dash") as url:
        upgrade(url)
        yield url


def make_app(url: str):
    from provisioning.fleet import create_app
    app = create_app({"database_url": url, "testing": True, "secret_key": "test-" + "k" * 40,
                      "metrics_token": "metrics-token-for-tests", "current_kiosk_version": "1.0.0"})
    return app


def api(client, path: str, body: dict, token: str | None = None):
    headers = {"Content-Encoding": "gzip"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return client.post(path, data=gzip.compress(json.dumps(body).encode()), headers=headers,
                       content_type="application/json")


def enrol(app, asset_tag: str, insee: str, name: str, interval_s: int) -> str:
    from provisioning.fleet.enrolment import create_enrolment_code
    code = create_enrolment_code(app.extensions["fleet_engine"], insee, time.time(), 30, name=name,
                                 expected_interval_s=interval_s)
    answer = api(app.test_client(), "/api/v1/enrol",
                 {"protocol": 1, "code": code, "asset_tag": asset_tag, "commune_insee": insee})
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["token"]


def checkin(app, token: str, records: list[dict]):
    answer = api(app.test_client(), "/api/v1/checkin", {"protocol": 1, "sent_at": time.time(), "records": records},
                 token)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def today(offset_days: int = 0) -> str:
    return (dt.datetime.now(dt.timezone.utc).date() + dt.timedelta(days=offset_days)).isoformat()


def health(seq: int, at: float, disk: float = 40.0, memory: float = 50.0, temperature: float = 45.0) -> dict:
    return {"seq": seq, "at": at, "type": "health", "data": {
        "cpu_percent": 10.0, "memory_used_percent": memory, "disk_used_percent": disk, "temperature_max_c": temperature,
        "uptime_s": 3600.0, "kiosk_restarts": 0}}


def usage(seq: int, day: str, counters: list) -> dict:
    return {"seq": seq, "at": time.time() - 60, "type": "usage", "data": {"day": day, "counters": counters}}


def inventory(seq: int, serial: str, version: str = "1.0.0") -> dict:
    return {"seq": seq, "at": time.time() - 300, "type": "inventory", "data": {
        "vendor": "Dell Inc.", "model": "OptiPlex 7010", "serial": serial, "uuid": "4c4c4544-0034-3010-8048-b6c04f503732",
        "cpu_model": "Intel(R) Core(TM) i5-3470 CPU @ 3.20GHz", "cpu_count": 4, "memory_bytes": 4 * 1024 ** 3,
        "disks": [{"name": "sda", "size_bytes": 250 * 10 ** 9, "rotational": True, "model": "ST250DM000"}],
        "macs": ["18:03:73:aa:bb:cc"], "os": "Debian GNU/Linux 12 (bookworm)", "kernel": "6.1.0-26-amd64",
        "kiosk_version": version}}


def seed(app) -> Fleet:
    """Two communes, three machines, their check-ins, the communes' places and one account per role."""
    from provisioning.fleet.accounts import store
    from provisioning.fleet.dashboard.actions import save_place
    engine = app.extensions["fleet_engine"]
    fleet = Fleet(app=app, url="")
    now = time.time()
    fleet.tokens["LUCH-001"] = enrol(app, "LUCH-001", LUCHON, "Bagnères-de-Luchon", 86400)
    fleet.tokens["LUCH-002"] = enrol(app, "LUCH-002", LUCHON, "Bagnères-de-Luchon", 86400)
    fleet.tokens["LOUR-001"] = enrol(app, "LOUR-001", LOURDES, "Lourdes", 3600)
    checkin(app, fleet.tokens["LUCH-001"], [
        inventory(1, "To be filled by O.E.M."), health(2, now - 120),
        usage(3, today(), [["sessions", "", 12], ["session_length", "5-15m", 9], ["session_length", "lt5m", 3],
                           ["tile_opened", "ameli", 7], ["tile_opened", "impots", 2], ["pages_printed", "", 6],
                           ["kiosk_started", "", 2]]),
        usage(4, today(-1), [["sessions", "", 3], ["session_length", "15-30m", 3]])])
    checkin(app, fleet.tokens["LUCH-002"], [inventory(1, "CZC1234XYZ", version="0.9.0"),
                                            health(2, now - 3 * 86400, memory=95.0)])
    checkin(app, fleet.tokens["LOUR-001"], [
        inventory(1, "LOURDES-SN-1"), health(2, now - 60, disk=95.0),
        usage(3, today(), [["sessions", "", 4242], ["tile_opened", "caf", 4242], ["session_length", "ge60m", 4242],
                           ["pages_printed", "", 4242], ["crash_recovered", "", 4]])])
    with engine.begin() as conn:
        # LUCH-002 last reached the server three days ago: late for a zone blanche, not missing.
        from provisioning.fleet.store.schema import devices
        conn.execute(devices.update().where(devices.c.asset_tag == "LUCH-002").values(last_seen_at=now - 3 * 86400))
    save_place(engine, LUCHON, {"postal_code": "31110", "address": "Mairie, allées d'Étigny",
                                "siret": "21310042500012", "opening_hours": "Mo 09:00-12:00,14:00-17:00; We 09:00-12:00",
                                "phone": "05 61 79 00 00", "email": "mairie@luchon.example"})
    save_place(engine, LOURDES, {"postal_code": "65100", "address": "Mairie de Lourdes, place du Champ-Commun",
                                 "siret": "21650286300017", "opening_hours": "Mo-Fr 08:30-12:00"})
    with engine.begin() as conn:
        for role in ROLES:
            fleet.passwords[role] = f"pass-{role}-{uuid.uuid4().hex[:10]}"
            store.create_user(conn, role, fleet.passwords[role], role, LUCHON if role == "commune" else None)
    return fleet


@contextmanager
def seeded_fleet(kind: str, directory: Path):
    """A seeded fleet server on a new database of ``kind`` (``fleet.url`` is its URL); its engine is
    disposed at the end."""
    with database(kind, directory) as url:
        app = make_app(url)
        fleet = seed(app)
        fleet.url = url
        yield fleet
        app.extensions["fleet_engine"].dispose()


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def seeded(request, tmp_path_factory):
    """A seeded fleet server per database, shared by the read-only tests of the session."""
    with seeded_fleet(request.param, tmp_path_factory.mktemp(f"fleet-{request.param}")) as fleet:
        yield fleet


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fresh(request, tmp_path):
    """A seeded fleet server of its own, for tests that change things."""
    with seeded_fleet(request.param, tmp_path) as fleet:
        yield fleet


@pytest.fixture
def fresh_sqlite(tmp_path):
    with seeded_fleet("sqlite", tmp_path) as fleet:
        yield fleet


REPO_ROOT_FOR_TESTS = Path(__file__).resolve().parents[2]
