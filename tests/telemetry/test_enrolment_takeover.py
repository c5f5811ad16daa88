"""Enrolment of an asset tag the server already knows (issue 15): an ordinary code re-enrols only a machine
of its own commune that is not healthy; anything else needs a reinstall code the staff made for that tag.
Through the real app (POST /api/v1/enrol, gzip check-ins), on SQLite and PostgreSQL."""

from __future__ import annotations

import gzip
import json
import time

import pytest
from sqlalchemy import select, update

from telemetry_helpers import health_record
from provisioning.fleet.enrolment import create_enrolment_code, revoke_tokens
from provisioning.fleet.store.schema import devices, enrolment_codes

LUCHON, LOURDES = "31042", "65286"


@pytest.fixture
def app(db_url):
    from provisioning.fleet import create_app
    app = create_app({"database_url": db_url, "testing": True})
    yield app
    app.extensions["fleet_engine"].dispose()


def _engine(app):
    return app.extensions["fleet_engine"]


def _code(app, insee: str, asset_tag: str | None = None) -> str:
    name = {LUCHON: "Bagnères-de-Luchon", LOURDES: "Lourdes"}[insee]
    return create_enrolment_code(_engine(app), insee, time.time(), 30, name=name, expected_interval_s=3600,
                                 asset_tag=asset_tag)


def _enrol(app, code: str, asset_tag: str, insee: str):
    body = {"protocol": 1, "code": code, "asset_tag": asset_tag, "commune_insee": insee}
    return app.test_client().post("/api/v1/enrol", json=body)


def _checkin(app, token: str, seq: int):
    body = gzip.compress(json.dumps({"protocol": 1, "sent_at": time.time(), "records": [health_record(seq)]}).encode())
    return app.test_client().post("/api/v1/checkin", data=body, content_type="application/json",
                                  headers={"Content-Encoding": "gzip", "Authorization": f"Bearer {token}"})


def _healthy_machine(app, asset_tag: str, insee: str) -> str:
    answer = _enrol(app, _code(app, insee), asset_tag, insee)
    assert answer.status_code == 201, answer.get_json()
    token = answer.get_json()["token"]
    assert _checkin(app, token, 1).status_code == 200
    return token


def _commune_of(app, asset_tag: str) -> str:
    with _engine(app).connect() as conn:
        return conn.execute(select(devices.c.commune_insee).where(devices.c.asset_tag == asset_tag)).scalar_one()


def _code_used(app, code_insee: str) -> bool:
    with _engine(app).connect() as conn:
        return conn.execute(select(enrolment_codes.c.used_at).where(
            enrolment_codes.c.commune_insee == code_insee).order_by(enrolment_codes.c.id.desc())).first()[0] is not None


def test_a_code_of_another_commune_cannot_take_over_a_machine(app):
    victim = _healthy_machine(app, "LOUR-0001", LOURDES)
    stolen_code = _code(app, LUCHON)
    answer = _enrol(app, stolen_code, "LOUR-0001", LUCHON)
    assert answer.status_code == 409
    body = answer.get_json()
    assert body["ok"] is False and body["status"] == 409 and body["errors"] == ["/asset_tag"]
    assert "--asset-tag" in body["error"]
    # Nothing changed: the machine stays in Lourdes, its own token still checks in, the code is unused...
    assert _commune_of(app, "LOUR-0001") == LOURDES
    assert _checkin(app, victim, 2).status_code == 200
    assert not _code_used(app, LUCHON)
    # ...and still good for a new machine of its own commune.
    assert _enrol(app, stolen_code, "LUCH-0001", LUCHON).status_code == 201


def test_even_a_silent_machine_of_another_commune_is_refused(app):
    _healthy_machine(app, "LOUR-0002", LOURDES)
    with _engine(app).begin() as conn:
        conn.execute(update(devices).where(devices.c.asset_tag == "LOUR-0002").values(
            last_seen_at=time.time() - 30 * 86400))
    assert _enrol(app, _code(app, LUCHON), "LOUR-0002", LUCHON).status_code == 409
    assert _commune_of(app, "LOUR-0002") == LOURDES


def test_a_healthy_machine_of_the_same_commune_cannot_be_silenced_with_an_ordinary_code(app):
    token = _healthy_machine(app, "LUCH-0010", LUCHON)
    assert _enrol(app, _code(app, LUCHON), "LUCH-0010", LUCHON).status_code == 409
    assert _checkin(app, token, 2).status_code == 200


def test_reinstall_of_a_machine_that_stopped_checking_in_keeps_its_history(app):
    """The ordinary reinstall: the volunteer wipes the PC, which stays silent for more than two expected
    intervals, then enrols it again with a new code of its commune."""
    old_token = _healthy_machine(app, "LUCH-0020", LUCHON)
    assert _checkin(app, old_token, 2).status_code == 200
    with _engine(app).begin() as conn:
        conn.execute(update(devices).where(devices.c.asset_tag == "LUCH-0020").values(
            last_seen_at=time.time() - 2 * 3600 - 60))
    answer = _enrol(app, _code(app, LUCHON), "LUCH-0020", LUCHON)
    assert answer.status_code == 201, answer.get_json()
    again = answer.get_json()
    assert again["seq_base"] == 2
    assert _checkin(app, old_token, 3).status_code == 401
    assert _checkin(app, again["token"], again["seq_base"] + 1).status_code == 200


def test_reinstall_after_the_staff_revoked_the_tokens(app):
    old_token = _healthy_machine(app, "LUCH-0030", LUCHON)
    revoke_tokens(_engine(app), "LUCH-0030", time.time())        # the staff decision (dashboard or CLI)
    answer = _enrol(app, _code(app, LUCHON), "LUCH-0030", LUCHON)
    assert answer.status_code == 201, answer.get_json()
    assert _checkin(app, old_token, 2).status_code == 401


def test_a_reinstall_code_made_for_the_tag_moves_even_a_healthy_machine(app):
    """A staff decision: a code made for LOUR-0040 re-enrols it in Luchon although it is checking in."""
    old_token = _healthy_machine(app, "LOUR-0040", LOURDES)
    reinstall = _code(app, LUCHON, asset_tag="LOUR-0040")
    wrong_machine = _enrol(app, reinstall, "LOUR-0041", LUCHON)
    assert wrong_machine.status_code == 403 and "another machine" in wrong_machine.get_json()["error"]
    answer = _enrol(app, reinstall, "LOUR-0040", LUCHON)
    assert answer.status_code == 201, answer.get_json()
    assert _commune_of(app, "LOUR-0040") == LUCHON
    assert _checkin(app, old_token, 2).status_code == 401
    assert _checkin(app, answer.get_json()["token"], answer.get_json()["seq_base"] + 1).status_code == 200


def test_a_reinstall_code_needs_a_known_machine(app):
    from provisioning.fleet.enrolment import UnknownDevice
    with pytest.raises(UnknownDevice):
        _code(app, LUCHON, asset_tag="NEW-0001")
