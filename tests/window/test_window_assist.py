"""Consented remote assistance with the real kiosk window under Xvfb and a real fleet server (the app
factory on SQLite, served over loopback in a thread): the agent's poll hands the request over, the window
asks in a native panel; nothing reaches the relay before « Oui »; « Non » sends only the refusal; after
« Oui » the relay holds images of the kiosk's own page (compared with the screen), the mediator's point
is drawn on the kiosk where she clicked, her message is shown, and « Arrêter » or the end of the
resident's session end it on the server within 2 s."""

from __future__ import annotations

import gzip
import io
import json
import re
import threading
import time

import pytest
import sqlalchemy as sa

pytest.importorskip("PIL")


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    from werkzeug.serving import make_server

    from provisioning.fleet import create_app
    from provisioning.fleet.accounts import store
    from provisioning.fleet.enrolment import create_enrolment_code
    from provisioning.fleet.store.migrate import upgrade
    url = f"sqlite:///{tmp_path_factory.mktemp('fleet') / 'fleet.db'}"
    upgrade(url)
    app = create_app({"database_url": url, "testing": True, "secret_key": "test-" + "k" * 40})
    engine = app.extensions["fleet_engine"]
    code = create_enrolment_code(engine, "31042", time.time(), 30, name="Bagnères-de-Luchon")
    enrolled = app.test_client().post("/api/v1/enrol", data=gzip.compress(json.dumps(
        {"protocol": 1, "code": code, "asset_tag": "LUCH-001", "commune_insee": "31042"}).encode()),
        headers={"Content-Encoding": "gzip"}, content_type="application/json")
    with engine.begin() as conn:
        store.create_user(conn, "claire", "pass-claire-7Hq2x9", "staff", None)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, name="fleet", daemon=True).start()
    app.fleet_url = f"http://127.0.0.1:{server.server_port}"
    app.device_token = enrolled.get_json()["token"]
    yield app
    server.shutdown()
    engine.dispose()


@pytest.fixture(scope="module")
def mediator(fleet):
    client = fleet.test_client()
    page = client.get("/connexion").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post("/connexion", data={"csrf_token": token, "username": "claire",
                                           "password": "pass-claire-7Hq2x9"}).status_code == 302
    return client


@pytest.fixture
def assisted(driver):
    from kiosk.window.assist import AssistSharing
    if getattr(driver.kiosk, "assist", None) is None:
        driver.kiosk.assist = AssistSharing(driver.kiosk, driver.events_dir)
    yield driver
    driver.kiosk.assist.end("session_end")


def ask_and_hand_over(fleet, mediator, driver) -> tuple[int, str]:
    """The mediator presses « Voir l'écran »; the agent's poll hands the request to the window."""
    from kiosk.agent.uploader import FleetClient
    from kiosk.assist.agent_watch import poll_once
    from kiosk.assist.offers import OfferDrop
    page = mediator.get("/tableau/machines/LUCH-001").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    asked = mediator.post("/tableau/machines/LUCH-001/assistance",
                          data={"csrf_token": token, "name": "Claire", "title": "médiatrice"})
    viewer = asked.headers["Location"]
    client = FleetClient(fleet.fleet_url)
    assist = poll_once(client, fleet.device_token, wait_s=0)
    client.close()
    assert assist is not None and assist["mediator"] == "Claire"
    OfferDrop(driver.events_dir).put({**assist, "relay_url": fleet.fleet_url, "offered_at": time.time(), "ca_file": None})
    driver.wait(lambda: driver.kiosk.assist.consent.visible, 5, "the consent question")
    return assist["id"], viewer


def row(fleet, session_id):
    from provisioning.fleet.store.assist_schema import assist_sessions
    with fleet.extensions["fleet_engine"].connect() as conn:
        return conn.execute(sa.select(assist_sessions).where(assist_sessions.c.id == session_id)).one()


def relay(fleet):
    return fleet.extensions["assist_relay"]


def wait_ended(driver, fleet, session_id, reason, within_s=2.0):
    started = time.monotonic()
    driver.wait(lambda: row(fleet, session_id).ended_at is not None, 10, f"the session to end ({reason})")
    assert time.monotonic() - started <= within_s + 0.5, "it must stop within 2 s"
    assert row(fleet, session_id).end_reason == reason


def screen_region(widget):
    from gi.repository import Gdk
    allocation = widget.get_allocation()
    x, y = widget.translate_coordinates(widget.get_toplevel(), 0, 0)
    origin = widget.get_toplevel().get_window().get_origin()
    return Gdk.pixbuf_get_from_window(Gdk.get_default_root_window(), origin.x + x, origin.y + y,
                                      allocation.width, allocation.height)


def pil(pixbuf):
    from PIL import Image
    return Image.frombytes("RGB" if not pixbuf.get_has_alpha() else "RGBA", (pixbuf.get_width(), pixbuf.get_height()),
                           pixbuf.get_pixels(), "raw", "RGB" if not pixbuf.get_has_alpha() else "RGBA",
                           pixbuf.get_rowstride()).convert("RGB")


def test_no_says_only_no(assisted, fleet, mediator):
    driver = assisted
    session_id, _viewer = ask_and_hand_over(fleet, mediator, driver)
    heading = driver.kiosk.assist.consent.heading.get_text()
    assert heading == "Claire, médiatrice de l’association, voudrait voir votre écran pour vous aider. Acceptez-vous\u202f?"
    driver.screenshot("assist-consent")
    driver.pump(1.0)
    assert relay(fleet).live(session_id) is None and row(fleet, session_id).started_at is None, "nothing before « Oui »"
    driver.click_widget(driver.kiosk.assist.consent.no)
    wait_ended(driver, fleet, session_id, "refused")
    driver.pump(0.5)
    assert row(fleet, session_id).started_at is None and relay(fleet).live(session_id) is None
    assert not driver.kiosk.assist.banner.get_visible()


def test_yes_shares_the_page_shows_points_and_messages_and_arreter_ends_it(assisted, fleet, mediator):
    from PIL import Image, ImageChops, ImageStat
    driver = assisted
    session_id, viewer = ask_and_hand_over(fleet, mediator, driver)
    driver.click_widget(driver.kiosk.assist.consent.yes)
    driver.wait(lambda: (relay(fleet).live(session_id) or None) is not None
                and relay(fleet).live(session_id).frame_seq >= 1, 10, "a first frame at the relay")
    banner = driver.kiosk.assist.banner
    assert banner.get_mapped() and banner.label.get_text() == "Claire voit votre écran"
    shown = mediator.get(viewer + "/image?apres=0")
    assert shown.status_code == 200 and shown.mimetype == "image/jpeg"
    frame = Image.open(io.BytesIO(shown.data)).convert("RGB")
    screen = pil(screen_region(driver.kiosk.view))
    assert frame.size[0] <= screen.size[0] and abs(frame.size[0] / frame.size[1] - screen.size[0] / screen.size[1]) < 0.02
    difference = ImageStat.Stat(ImageChops.difference(frame.resize(screen.size), screen)).mean
    assert max(difference) < 12, f"the mediator sees the kiosk's page (mean difference {difference})"
    assert banner.label.get_text() not in json.dumps(driver.js("document.body.innerText")), "the banner is not in the page"
    # A still page is not captured again (no redraw, no snapshot); a change is sent at once.
    sharing = driver.kiosk.assist
    driver.wait(lambda: not sharing.in_flight and sharing.capture_timer is None, 5, "the capture at rest")
    captured_at, seq = sharing.captured_at, relay(fleet).live(session_id).frame_seq
    driver.pump(1.5)
    assert sharing.captured_at == captured_at and relay(fleet).live(session_id).frame_seq == seq, "a still page is not captured"
    driver.js("document.body.style.background = 'rgb(250, 250, 235)'")
    driver.wait(lambda: relay(fleet).live(session_id).frame_seq > seq, 3, "the changed page at the relay")

    token = re.search(r'data-csrf="([^"]+)"', mediator.get(viewer).get_data(as_text=True)).group(1)
    before = pil(screen_region(driver.kiosk.view)).getpixel((screen.size[0] // 4, screen.size[1] * 3 // 4))
    assert mediator.post(viewer + "/point", json={"x": 0.25, "y": 0.75}, headers={"X-CSRFToken": token}).status_code == 200
    driver.wait(lambda: driver.kiosk.assist.pointer.point == (0.25, 0.75), 5, "the point on the kiosk")
    driver.pump(0.3)
    path = driver.screenshot("assist-point")
    after = pil(screen_region(driver.kiosk.view)).getpixel((screen.size[0] // 4, screen.size[1] * 3 // 4))
    assert after[0] - after[1] > 40 and after != before, (before, after, path)
    assert mediator.post(viewer + "/message", json={"text": "Cliquez sur le bouton bleu"},
                         headers={"X-CSRFToken": token}).status_code == 200
    driver.wait(lambda: banner.message.get_mapped() and banner.message.get_text() == "Cliquez sur le bouton bleu",
                5, "the message on the kiosk")
    driver.screenshot("assist-message")
    driver.click_widget(banner.stop)
    wait_ended(driver, fleet, session_id, "resident")
    assert not banner.get_visible() and relay(fleet).live(session_id) is None
    assert mediator.get(viewer + "/image").headers["X-Assist-State"] == "ended:resident"


def test_the_end_of_the_session_ends_the_assistance(assisted, fleet, mediator):
    driver = assisted
    session_id, _viewer = ask_and_hand_over(fleet, mediator, driver)
    driver.click_widget(driver.kiosk.assist.consent.yes)
    driver.wait(lambda: row(fleet, session_id).started_at is not None, 10, "the start")
    driver.kiosk.end_session(idle=False)
    wait_ended(driver, fleet, session_id, "session_end")
    assert not driver.kiosk.assist.banner.get_visible()


def test_the_mediators_stop_ends_it_on_the_kiosk_within_2_s(assisted, fleet, mediator):
    driver = assisted
    session_id, viewer = ask_and_hand_over(fleet, mediator, driver)
    driver.click_widget(driver.kiosk.assist.consent.yes)
    banner = driver.kiosk.assist.banner
    driver.wait(lambda: banner.get_mapped() and relay(fleet).live(session_id) is not None, 10, "the sharing")
    driver.pump(1.0)  # the kiosk is waiting in its events long-poll
    token = re.search(r'data-csrf="([^"]+)"', mediator.get(viewer).get_data(as_text=True)).group(1)
    assert mediator.post(viewer + "/arreter", headers={"X-CSRFToken": token}).status_code == 204
    stopped = time.monotonic()
    driver.wait(lambda: not banner.get_visible(), 5, "the banner to go away")
    assert time.monotonic() - stopped <= 2.0
    assert row(fleet, session_id).end_reason == "mediator"
