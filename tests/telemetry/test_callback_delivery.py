"""A call-back request made offline is delivered exactly once when the link returns (issue 13 point 1):
the real shell form, the real agent (hand-over folder, spool, uploader) and the real Flask fleet server over
loopback, on SQLite and PostgreSQL. Nothing of the request stays on the kiosk once delivered, and the
endpoint answers hostile input with the API's error shape, never a 500."""

from __future__ import annotations

import gzip
import json
import secrets
import threading
import time
from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from postgres_schemas import migrated_store

from telemetry_helpers import INSEE, free_port, new_code, write_agent_settings
from kiosk.agent.clock import FakeClock
from kiosk.agent.runner import Agent
from kiosk.agent.settings import load_agent_settings
from kiosk.agent.uploader import FleetClient
from kiosk.events import EventLog
from kiosk.protocol.callback import CALLBACK_PATH
from provisioning.fleet.store.help_schema import callback_requests

NAME = "Gisèle Rappelezmoi"
FORM = {"nom": NAME, "telephone": "+33 5.61.79.00.42", "sujet": "impots", "moment": "asap"}
KINDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def fleet_app(engine):
    from provisioning.fleet import create_app
    return create_app({"database_url": engine.url.render_as_string(hide_password=False), "testing": True,
                       "secret_key": "test-" + "k" * 40})


@contextmanager
def serving(app, port: int):
    import logging
    from werkzeug.serving import make_server
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.mark.parametrize("kind", KINDS)
def test_a_request_made_offline_is_delivered_once_when_the_link_returns(kind, tmp_path, demo_config):
    from kiosk.shell import ShellSettings, create_app as create_shell
    with migrated_store(kind, tmp_path, "cb") as engine:
        port = free_port()  # nothing listens there yet: the kiosk is offline
        agent = Agent(load_agent_settings(write_agent_settings(tmp_path, f"http://127.0.0.1:{port}", new_code(engine))),
                      clock=FakeClock(time.time()))
        try:
            # The resident fills the form in the real shell, which shares the events folder with the agent.
            shell = create_shell(demo_config, events=EventLog(tmp_path / "events"),
                                 settings=ShellSettings(probe_host="127.0.0.1", probe_port=free_port()))
            assert shell.test_client().post("/aide/rappel", data=FORM).status_code == 303
            agent.record()
            assert not list((tmp_path / "events" / "rappels").iterdir()), "taken into the spool"
            assert len(agent.spool.callbacks()) == 1
            assert agent.upload() is False  # offline: kept
            assert len(agent.spool.callbacks()) == 1

            app = fleet_app(engine)
            with serving(app, port):
                assert agent.upload() is True
                assert agent.spool.callbacks() == []
                with engine.connect() as conn:
                    rows = conn.execute(sa.select(callback_requests)).all()
                assert len(rows) == 1
                row = rows[0]
                assert (row.name, row.phone, row.subject, row.slot, row.status) == (
                    NAME, "05 61 79 00 42", "impots", "asap", "new")
                assert row.commune_insee == INSEE

                # The answer was lost with the link: the same request arrives again, and is not stored twice.
                client = FleetClient(f"http://127.0.0.1:{port}")
                again = client.post(CALLBACK_PATH, {"protocol": 1, "request_id": row.request_id,
                                                    "made_at": row.made_at, "name": NAME, "phone": row.phone,
                                                    "subject": "impots", "slot": "asap"}, agent.credentials.token)
                client.close()
                assert (again.status, again.body["stored"]) == (200, False)
                assert agent.upload() is True
                with engine.connect() as conn:
                    assert conn.execute(sa.select(sa.func.count()).select_from(callback_requests)).scalar_one() == 1
        finally:
            agent.close()
            if "app" in locals():
                app.extensions["fleet_engine"].dispose()
        # Nothing of the request stays in the agent's files (secure_delete, WAL emptied) nor in the folder.
        for path in (tmp_path / "state").iterdir():
            data = path.read_bytes()
            assert NAME.encode() not in data and b"61 79 00 42" not in data, path.name
        assert not list((tmp_path / "events" / "rappels").iterdir())


def gz(document) -> bytes:
    return gzip.compress(json.dumps(document).encode())


VALID = {"protocol": 1, "request_id": "0123456789abcdef0123456789abcdef", "made_at": 1764000000.0,
         "name": "Marie", "phone": "06 12 34 56 78", "subject": "sante", "slot": "mo 09:00-12:00"}
HOSTILE = [
    ({**VALID, "phone": "0612345678"}, 422, "/phone"),
    ({**VALID, "phone": ["06"]}, 422, "/phone"),
    ({**VALID, "name": "x" * 61}, 422, "/name"),
    ({**VALID, "name": "Marie\u0000"}, 422, "/name"),
    ({**VALID, "name": ""}, 422, "/name"),
    ({**VALID, "subject": "banque"}, 422, "/subject"),
    ({**VALID, "slot": "mo 9h"}, 422, "/slot"),
    ({**VALID, "request_id": "../../etc"}, 422, "/request_id"),
    ({**VALID, "made_at": 9e99}, 422, "/made_at"),
    ({**VALID, "made_at": True}, 422, "/made_at"),
    ({**VALID, "page": "https://www.impots.gouv.fr/"}, 422, "/page"),
    ({k: v for k, v in VALID.items() if k != "phone"}, 422, "/phone: missing"),
    ([VALID], 422, "/"),
    ("hello", 422, "/"),
    ({**VALID, "name": secrets.token_hex(10000)}, 413, None),  # 10 kB once gzipped: past the 8 kB limit
]


@pytest.mark.parametrize("kind", KINDS)
def test_hostile_requests_get_the_api_error_shape_and_store_nothing(kind, tmp_path):
    from provisioning.fleet.enrolment import enrol
    with migrated_store(kind, tmp_path, "cbh") as engine:
        app = fleet_app(engine)
        token = enrol(engine, new_code(engine), "CB-0001", INSEE, time.time())["token"]
        client = app.test_client()
        headers = {"Content-Encoding": "gzip", "Authorization": f"Bearer {token}"}
        for body, status, pointer in HOSTILE:
            answer = client.post(CALLBACK_PATH, data=gz(body), headers=headers, content_type="application/json")
            document = answer.get_json()
            assert answer.status_code == status, (body, document)
            assert document["ok"] is False and document["status"] == status and document["error"]
            if pointer:
                assert any(error.startswith(pointer) for error in document["errors"]), document
        for data, extra, status in [(b"not gzip", {}, 400), (gzip.compress(b"{nope"), {}, 400),
                                    (gz(VALID), {"Authorization": "Bearer nope"}, 401),
                                    (gz(VALID), {"Authorization": ""}, 401)]:
            answer = client.post(CALLBACK_PATH, data=data, headers={**headers, **extra}, content_type="application/json")
            assert answer.status_code == status and answer.get_json()["ok"] is False
        assert client.get(CALLBACK_PATH).status_code == 405
        with engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(callback_requests)).scalar_one() == 0
        answer = client.post(CALLBACK_PATH, data=gz(VALID), headers=headers, content_type="application/json")
        assert answer.status_code == 201 and answer.get_json() == {"ok": True, "request_id": VALID["request_id"],
                                                                    "stored": True}
        app.extensions["fleet_engine"].dispose()
