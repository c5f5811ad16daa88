"""The check-in's kept SQLite connection (store.engine.HeldConnections): a connection that met an
unexpected error is dropped, the next check-in gets a new one and is stored; nothing is left half-written."""

from __future__ import annotations

import gzip
import json
import time

import pytest

from telemetry_helpers import health_record, stored_counts
from provisioning.fleet.checkin_endpoint import CheckinEndpoint
from provisioning.fleet.enrolment import create_enrolment_code


@pytest.fixture
def app(tmp_path):
    from provisioning.fleet import create_app
    app = create_app({"database_url": f"sqlite:///{tmp_path / 'fleet.db'}", "testing": True})
    from provisioning.fleet.store.migrate import upgrade
    upgrade(f"sqlite:///{tmp_path / 'fleet.db'}")
    yield app
    app.extensions["fleet_engine"].dispose()


def _checkin(app, token: str, seq: int):
    body = gzip.compress(json.dumps({"protocol": 1, "sent_at": time.time(), "records": [health_record(seq)]}).encode())
    return app.test_client().post("/api/v1/checkin", data=body, content_type="application/json",
                                  headers={"Content-Encoding": "gzip", "Authorization": f"Bearer {token}"})


def test_a_broken_kept_connection_is_dropped_and_the_next_check_in_is_stored(app):
    engine = app.extensions["fleet_engine"]
    code = create_enrolment_code(engine, "31042", time.time(), 30, name="Bagnères-de-Luchon")
    answer = app.test_client().post("/api/v1/enrol", json={"protocol": 1, "code": code, "asset_tag": "AB-0007",
                                                           "commune_insee": "31042"})
    token = answer.get_json()["token"]
    assert _checkin(app, token, 1).status_code == 200
    endpoint = app.wsgi_app
    assert isinstance(endpoint, CheckinEndpoint)
    kept = endpoint.held_connections.get()
    assert endpoint.held_connections.get() is kept  # the same connection from one check-in to the next
    kept.driver_connection.close()  # the connection dies under the worker (what a broken one looks like)

    failed = _checkin(app, token, 2)
    assert failed.status_code == 500 and failed.get_json()["error"].startswith("internal server error")
    assert stored_counts(engine)["health_batches"] == 1  # nothing of the failed check-in

    again = _checkin(app, token, 2)
    assert again.status_code == 200, again.get_json()
    assert again.get_json()["acked"] == [2]
    assert endpoint.held_connections.get() is not kept
    assert stored_counts(engine)["health_batches"] == 2
