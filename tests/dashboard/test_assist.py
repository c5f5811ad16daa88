"""Consented remote assistance, server side (issue 13 point 3): a mediator's request reaches the kiosk
(check-in answer and poll), nothing is relayed before « Oui », « Non » ends it, frames go from the kiosk
to the mediator's viewer only, points and messages the other way, either side ends it, a second mediator
cannot join, and everything the kiosk sends is bounded and refused with the API's error shape."""

from __future__ import annotations

import io
import re
import time

import pytest
import sqlalchemy as sa

from dashboard_helpers import checkin, csrf_token, health, seeded_fleet


@pytest.fixture(scope="module")
def shared_sqlite(tmp_path_factory):
    """One seeded SQLite fleet for this module's tests (each ends what it started: see ``fleet``)."""
    with seeded_fleet("sqlite", tmp_path_factory.mktemp("assist")) as fleet:
        yield fleet


@pytest.fixture
def fleet(shared_sqlite):
    """The shared fleet with no assistance going on before and after the test."""
    from provisioning.fleet import assist_log
    from provisioning.fleet.store.assist_schema import assist_sessions
    engine = shared_sqlite.app.extensions["fleet_engine"]

    def end_all() -> None:
        with engine.begin() as conn:
            ids = [row.id for row in conn.execute(sa.select(assist_sessions.c.id).where(assist_sessions.c.ended_at.is_(None)))]
            for session_id in ids:
                assist_log.end(conn, session_id, "mediator", time.time())
        for session_id in ids:
            shared_sqlite.app.extensions["assist_relay"].close(session_id, "mediator")
    end_all()
    yield shared_sqlite
    end_all()


def png(width=320, height=200, colour=(200, 30, 30)) -> bytes:
    from PIL import Image
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "PNG")
    return buffer.getvalue()


def ask(client, tag="LUCH-001", name="Claire"):
    page = client.get(f"/tableau/machines/{tag}").get_data(as_text=True)
    assert "Voir l'écran" in page
    return client.post(f"/tableau/machines/{tag}/assistance",
                       data={"csrf_token": csrf_token(page), "name": name, "title": "médiatrice"})


def poll(fleet, tag="LUCH-001"):
    answer = fleet.app.test_client().get("/api/v1/assist/poll?wait=0",
                                         headers={"Authorization": f"Bearer {fleet.tokens[tag]}"})
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["assist"]


def kiosk(fleet, method, offer, what, **kwargs):
    client = fleet.app.test_client()
    headers = {"Authorization": f"Bearer {offer['key']}", **kwargs.pop("headers", {})}
    return getattr(client, method)(f"/api/v1/assist/{offer['id']}/{what}", headers=headers, **kwargs)


def viewer_csrf(client, session_url):
    page = client.get(session_url)
    assert page.status_code == 200
    return re.search(r'data-csrf="([^"]+)"', page.get_data(as_text=True)).group(1)


def log_row(fleet, session_id):
    from provisioning.fleet.store.assist_schema import assist_sessions
    with fleet.app.extensions["fleet_engine"].connect() as conn:
        return conn.execute(sa.select(assist_sessions).where(assist_sessions.c.id == session_id)).one()


def test_refusal_ends_it_and_nothing_can_be_sent(fresh):
    fleet = fresh  # SQLite and PostgreSQL: the check-in's hint is hand-written SQL
    staff = fleet.client("staff")
    asked = ask(staff)
    assert asked.status_code == 302 and "/tableau/assistance/" in asked.headers["Location"]
    answer = checkin(fleet.app, fleet.tokens["LUCH-001"], [health(10, time.time())])
    assert answer["assist"]["mediator"] == "Claire", "the check-in answer tells the kiosk someone waits"
    assert "assist" not in checkin(fleet.app, fleet.tokens["LUCH-002"], [health(10, time.time())])
    offer = poll(fleet)
    assert offer["mediator"] == "Claire" and offer["title"] == "médiatrice" and len(offer["key"]) >= 40
    assert poll(fleet, "LUCH-002") is None
    early = kiosk(fleet, "post", offer, "frame", data=png(), content_type="image/png")
    assert early.status_code == 409, "nothing is relayed before « Oui »"
    assert kiosk(fleet, "post", offer, "answer", json={"accept": False}).status_code == 200
    row = log_row(fleet, offer["id"])
    assert row.end_reason == "refused" and row.started_at is None and row.kiosk_key_sha256 is None
    late = kiosk(fleet, "post", offer, "frame", data=png(), content_type="image/png")
    assert late.status_code == 410 and late.get_json()["ok"] is False
    assert "assist" not in checkin(fleet.app, fleet.tokens["LUCH-001"], [health(11, time.time())])
    viewer = asked.headers["Location"]
    image = staff.get(viewer + "/image")
    assert image.status_code == 204 and image.headers["X-Assist-State"] == "ended:refused"
    page = staff.get("/tableau/machines/LUCH-001").get_data(as_text=True)
    assert "Claire" in page and "refusée par la personne" in page


def test_frames_points_messages_and_stop(fleet):
    staff = fleet.client("staff")
    viewer = ask(staff).headers["Location"]
    offer = poll(fleet)
    assert kiosk(fleet, "post", offer, "answer", json={"accept": True}).get_json()["running"] is True
    frame = png()
    sent = kiosk(fleet, "post", offer, "frame", data=frame, content_type="image/png")
    assert sent.status_code == 200, sent.get_json()
    shown = staff.get(viewer + "/image?apres=0")
    assert shown.status_code == 200 and shown.data == frame and shown.headers["X-Frame-Seq"] == "1"
    assert shown.mimetype == "image/png" and shown.headers["Cache-Control"] == "no-store"
    token = viewer_csrf(staff, viewer)
    headers = {"X-CSRFToken": token}
    assert staff.post(viewer + "/point", json={"x": 0.25, "y": 0.75}, headers=headers).status_code == 200
    assert staff.post(viewer + "/message", json={"text": "Cliquez sur « Suivant »"}, headers=headers).status_code == 200
    assert staff.post(viewer + "/point", json={"x": 0.25, "y": 0.75}).status_code == 400, "CSRF token required"
    assert staff.post(viewer + "/point", json={"x": 2, "y": 0}, headers=headers).status_code == 422
    assert staff.post(viewer + "/message", json={"text": "x" * 201}, headers=headers).status_code == 422
    events = kiosk(fleet, "get", offer, "events?after=0&wait=0").get_json()
    assert events["events"] == [{"kind": "point", "x": 0.25, "y": 0.75},
                                {"kind": "message", "text": "Cliquez sur « Suivant »"}]
    assert kiosk(fleet, "get", offer, f"events?after={events['last']}&wait=0").get_json()["events"] == []
    assert staff.post(viewer + "/arreter", headers=headers).status_code == 204
    gone = kiosk(fleet, "get", offer, "events?after=0&wait=5")
    assert gone.status_code == 410 and gone.get_json()["errors"] == ["mediator"]
    row = log_row(fleet, offer["id"])
    assert row.started_at and row.ended_at and row.end_reason == "mediator"
    assert fleet.app.extensions["assist_relay"].live(offer["id"]) is None, "the relay forgets the frame once it ends"


def test_the_kiosk_ends_it_and_a_second_mediator_cannot_join(fleet):
    staff, admin = fleet.client("staff"), fleet.client("admin")
    viewer = ask(staff).headers["Location"]
    busy = ask(admin, name="Paul")
    assert busy.status_code == 302 and busy.headers["Location"].endswith("/tableau/machines/LUCH-001")
    assert "une seule personne à la fois" in admin.get("/tableau/machines/LUCH-001").get_data(as_text=True)
    assert admin.get(viewer).status_code == 403 and admin.get(viewer + "/image").status_code == 403
    commune = fleet.client("commune")
    assert commune.get(viewer).status_code == 403 and commune.get(viewer + "/image").status_code == 403
    assert "Voir l'écran" not in commune.get("/tableau/machines/LUCH-001").get_data(as_text=True)
    offer = poll(fleet)
    kiosk(fleet, "post", offer, "answer", json={"accept": True})
    assert kiosk(fleet, "post", offer, "answer", json={"accept": True}).status_code == 409
    assert kiosk(fleet, "post", offer, "end", json={"reason": "nonsense"}).status_code == 422
    assert kiosk(fleet, "post", offer, "end", json={"reason": "resident"}).status_code == 200
    assert staff.get(viewer + "/image").headers["X-Assist-State"] == "ended:resident"
    assert ask(admin, name="Paul").headers["Location"].startswith("/tableau/assistance/"), "free again"


HOSTILE_FRAMES = [
    (b"x" * (256 * 1024 + 1), "image/png", 413),
    (b"GIF89a" + b"\0" * 20, "image/gif", 415),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 30, "image/png", 422),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"\0" * 40, "image/jpeg", 422),
    (None, "image/png", 422),  # a real PNG, 5000 pixels wide
]


def test_hostile_frames_get_a_4xx(fleet):
    ask(fleet.client("staff"))
    offer = poll(fleet)
    kiosk(fleet, "post", offer, "answer", json={"accept": True})
    for body, content_type, status in HOSTILE_FRAMES:
        body = png(5000, 10) if body is None else body
        answer = kiosk(fleet, "post", offer, "frame", data=body, content_type=content_type)
        assert answer.status_code == status and answer.get_json()["ok"] is False, (content_type, answer.get_json())
        assert answer.get_json()["status"] == status
    fleet.app.config["ASSIST_IDLE_S"] = 0.3  # the assist_idle_minutes setting, shortened
    try:
        time.sleep(0.4)
        idle = kiosk(fleet, "post", offer, "frame", data=png(), content_type="image/png")
    finally:
        del fleet.app.config["ASSIST_IDLE_S"]
    assert idle.status_code == 410 and idle.get_json()["errors"] == ["idle"], "no point nor message for too long"
    assert log_row(fleet, offer["id"]).end_reason == "idle"


def test_wrong_keys_and_bad_parameters(fleet):
    ask(fleet.client("staff"))
    offer = poll(fleet)
    wrong = {**offer, "key": "not-the-key"}
    assert kiosk(fleet, "post", wrong, "answer", json={"accept": True}).status_code == 401
    device = {**offer, "key": fleet.tokens["LUCH-001"]}
    assert kiosk(fleet, "post", device, "answer", json={"accept": True}).status_code == 401, "the device token is no key"
    assert kiosk(fleet, "get", offer, "events?after=0&wait=0").status_code == 409, "not accepted yet"
    assert kiosk(fleet, "post", offer, "answer", json={"accept": "oui"}).status_code == 422
    client = fleet.app.test_client()
    auth = {"Authorization": f"Bearer {fleet.tokens['LUCH-001']}"}
    assert client.get("/api/v1/assist/poll?wait=99", headers=auth).status_code == 400
    assert client.get("/api/v1/assist/poll?wait=abc", headers=auth).status_code == 400
    assert client.get("/api/v1/assist/poll").status_code == 401
    assert poll(fleet) is None, "a request is handed out once"
    assert kiosk(fleet, "post", offer, "answer", json={"accept": True}).status_code == 200
    relay = fleet.app.extensions["assist_relay"]
    relay.clock = lambda: time.monotonic() + 7  # seven seconds later: the mediator's page stopped asking
    try:
        gone = kiosk(fleet, "get", offer, "events?after=0&wait=0")
    finally:
        relay.clock = time.monotonic
    assert gone.status_code == 410 and gone.get_json()["errors"] == ["mediator_left"]
