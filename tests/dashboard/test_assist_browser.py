"""The mediator's viewer in Debian's Chromium (Playwright), against a real fleet server over loopback and
a kiosk played by the window's own relay client: the page waits for « Oui », then shows the kiosk's
frames (pixels compared), a click on the image reaches the kiosk as a point at the same place, a message
reaches it too, and closing the page ends the assistance within 2 s."""

from __future__ import annotations

import io
import time

import pytest
import sqlalchemy as sa


pytestmark = pytest.mark.browser


def two_colour_png(width=400, height=250) -> bytes:
    from PIL import Image
    image = Image.new("RGB", (width, height), (20, 60, 200))
    image.paste((250, 210, 20), (width // 2, 0, width, height))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def log_row(fleet, session_id):
    from provisioning.fleet.store.assist_schema import assist_sessions
    with fleet.app.extensions["fleet_engine"].connect() as conn:
        return conn.execute(sa.select(assist_sessions).where(assist_sessions.c.id == session_id)).one()


def test_the_mediator_sees_points_writes_and_closing_her_page_ends_it(page, fresh_sqlite, serve_wsgi):
    from kiosk.agent.uploader import FleetClient
    from kiosk.assist.agent_watch import poll_once
    from kiosk.assist.relay_client import RelayClient, SessionEnded
    from PIL import Image
    fleet = fresh_sqlite
    base = serve_wsgi(fleet.app).rstrip("/")
    page.goto(base + "/tableau/")
    page.get_by_label("Identifiant").fill("staff")
    page.get_by_label("Mot de passe").fill(fleet.passwords["staff"])
    with page.expect_navigation():
        page.get_by_role("button", name="Se connecter").click()
    page.goto(base + "/tableau/machines/LUCH-001")
    page.locator("summary", has_text="Assistance à distance").click()
    page.get_by_label("Votre prénom, tel que la personne le lira").fill("Claire")
    with page.expect_navigation():
        page.get_by_role("button", name="Voir l'écran").click()
    assert "En attente de la réponse" in page.locator("#assist-state").inner_text()

    client = FleetClient(base)
    offer = poll_once(client, fleet.tokens["LUCH-001"], wait_s=0)
    client.close()
    kiosk = RelayClient(base, offer["id"], offer["key"])
    kiosk.answer(True)
    kiosk.send_frame(two_colour_png(), "image/png")
    page.locator('#assist[data-frames="1"]').wait_for()  # set by the page's script (its CSP forbids eval)
    page.locator("#assist-screen").wait_for(state="visible")
    assert "a accepté" in page.locator("#assist-state").inner_text()
    shot = Image.open(io.BytesIO(page.locator("#assist-screen").screenshot())).convert("RGB")
    left, right = shot.getpixel((shot.width // 4, shot.height // 2)), shot.getpixel((shot.width * 3 // 4, shot.height // 2))
    assert max(abs(a - b) for a, b in zip(left, (20, 60, 200))) < 10, left
    assert max(abs(a - b) for a, b in zip(right, (250, 210, 20))) < 10, right

    box = page.locator("#assist-screen").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.25, box["y"] + box["height"] * 0.75)
    events, last = kiosk.events(0, 5)
    assert len(events) == 1 and events[0]["kind"] == "point"
    assert abs(events[0]["x"] - 0.25) < 0.02 and abs(events[0]["y"] - 0.75) < 0.02
    page.get_by_label("Message court pour la personne").fill("Cliquez sur « Suivant »")
    page.get_by_role("button", name="Envoyer le message").click()
    events, last = kiosk.events(last, 5)
    assert events == [{"kind": "message", "text": "Cliquez sur « Suivant »"}]

    page.close()
    closed = time.monotonic()
    while log_row(fleet, offer["id"]).ended_at is None and time.monotonic() - closed < 10:
        time.sleep(0.05)
    assert time.monotonic() - closed <= 2.0, "closing her page stops the stream within 2 s"
    assert log_row(fleet, offer["id"]).end_reason == "mediator"
    with pytest.raises(SessionEnded):
        kiosk.send_frame(two_colour_png(), "image/png")
    kiosk.close()
