"""« Demandes de rappel » (issue 13 point 2): a request delivered by a kiosk shows in the staff's inbox
with the commune of the point; staff take it, note it, close it; staff are told by e-mail with nothing
personal ("1 nouvelle demande à <commune>", through a real SMTP server on loopback); a request is deleted
``callback_retention_days`` after it is done, by ``fleet suivi``; commune accounts see none of it."""

from __future__ import annotations

import re
import secrets
import time

import sqlalchemy as sa

from dashboard_helpers import api, csrf_token
from smtp_sink import SmtpSink
from test_alerts import subscribe

PHONE = "05 61 79 00 42"


def deliver(fleet, name="Gisèle Rappelezmoi", subject="impots", slot="mo 09:00-12:00", tag="LUCH-001"):
    request = {"protocol": 1, "request_id": secrets.token_hex(16), "made_at": time.time() - 5, "name": name,
               "phone": PHONE, "subject": subject, "slot": slot}
    answer = api(fleet.app.test_client(), "/api/v1/callbacks", request, fleet.tokens[tag])
    assert answer.status_code == 201, answer.get_json()
    return request


def request_pk(fleet, request_id: str) -> int:
    from provisioning.fleet.store.help_schema import callback_requests
    with fleet.app.extensions["fleet_engine"].connect() as conn:
        return conn.execute(sa.select(callback_requests.c.id).where(
            callback_requests.c.request_id == request_id)).scalar_one()


def change(client, pk: int, status: str, note: str = ""):
    page = "".join(client.get(f"/tableau/rappels?etat={tab}").get_data(as_text=True)
                   for tab in ("new", "in_progress", "done"))
    token = re.search(rf'name="r{pk}-csrf_token" type="hidden" value="([^"]+)"', page)
    assert token, "no CSRF token for the request's form"
    return client.post(f"/tableau/rappels/{pk}", data={f"r{pk}-csrf_token": token.group(1),
                                                        f"r{pk}-status": status, f"r{pk}-note": note})


def test_the_inbox_shows_a_delivered_request_and_staff_follow_it(fresh):
    request = deliver(fresh)
    staff = fresh.client("staff")
    page = staff.get("/tableau/rappels").get_data(as_text=True)
    assert "Gisèle Rappelezmoi" in page and PHONE in page and "Bagnères-de-Luchon" in page
    assert "Impôts" in page and "Lundi, de 9" in page and "Nouvelles (1)" in page
    assert "LUCH-001" not in page, "the point's commune is shown, not which machine (nor any site)"
    assert "Demandes de rappel" in staff.get("/tableau/").get_data(as_text=True)

    pk = request_pk(fresh, request["request_id"])
    assert change(staff, pk, "in_progress", "Rappel prévu lundi matin").status_code == 302
    page = staff.get("/tableau/rappels?etat=in_progress").get_data(as_text=True)
    assert "Gisèle Rappelezmoi" in page and "Rappel prévu lundi matin" in page and "En cours (1)" in page
    assert re.search(r"Prise par</dt><dd>staff</dd>", page)
    assert change(staff, pk, "done").status_code == 302
    assert "Traitées (1)" in staff.get("/tableau/rappels?etat=done").get_data(as_text=True)
    assert "Gisèle" not in staff.get("/tableau/rappels").get_data(as_text=True)

    # A note too long is refused, named, and changes nothing.
    answer = change(staff, pk, "done", "x" * 501)
    assert answer.status_code == 302
    assert "Note (courte) : 500 caractères au plus." in staff.get("/tableau/rappels?etat=done").get_data(as_text=True)


def test_commune_accounts_see_no_request(fresh):
    deliver(fresh)
    commune = fresh.client("commune")
    assert commune.get("/tableau/rappels").status_code == 403
    assert "Demandes de rappel" not in commune.get("/tableau/").get_data(as_text=True)
    token = csrf_token(commune.get("/tableau/").get_data(as_text=True))
    assert commune.post("/tableau/rappels/1", data={"r1-csrf_token": token, "r1-status": "done"}).status_code == 403


def test_staff_are_told_by_email_with_nothing_personal(fresh_sqlite, monkeypatch, capsys):
    from provisioning.fleet.cli import main
    subscribe(fresh_sqlite, ["lost"], email="mediation@asso.example")
    deliver(fresh_sqlite)
    with SmtpSink() as sink:
        for name, value in {"FLEET_SMTP_HOST": "127.0.0.1", "FLEET_SMTP_PORT": str(sink.port),
                            "FLEET_SMTP_STARTTLS": "0", "FLEET_CURRENT_KIOSK_VERSION": "1.0.0"}.items():
            monkeypatch.setenv(name, value)
        assert main(["--database-url", fresh_sqlite.url, "suivi"]) == 0
        mails = [(to, message) for to, message in sink.messages if "demande" in message["Subject"]]
        assert [(to, message["Subject"]) for to, message in mails] == [
            (["mediation@asso.example"], "1 nouvelle demande à Bagnères-de-Luchon")]
        body = mails[0][1].get_content()
        assert body.startswith("1 nouvelle demande à Bagnères-de-Luchon.")
        assert "Gisèle" not in body and "61 79" not in body and "impôts" not in body.lower()

        assert main(["--database-url", fresh_sqlite.url, "suivi"]) == 0  # announced once only
        assert len([m for _to, m in sink.messages if "demande" in m["Subject"]]) == 1
        deliver(fresh_sqlite, name="Paul"), deliver(fresh_sqlite, name="Rose")
        assert main(["--database-url", fresh_sqlite.url, "suivi"]) == 0
        assert sink.messages[-1][1]["Subject"] == "2 nouvelles demandes à Bagnères-de-Luchon"
    assert "Demandes de rappel : 1\u00a0courriel envoyé" in capsys.readouterr().out


def test_a_request_is_deleted_after_the_retention_period(fresh, monkeypatch):
    from provisioning.fleet.cli import main
    from provisioning.fleet.store.help_schema import callback_requests
    old, recent, open_one = deliver(fresh, name="Ancienne"), deliver(fresh, name="Récente"), deliver(fresh, name="Ouverte")
    staff = fresh.client("staff")
    for request in (old, recent):
        assert change(staff, request_pk(fresh, request["request_id"]), "done", "rappelée").status_code == 302
    engine = fresh.app.extensions["fleet_engine"]
    now = time.time()
    with engine.begin() as conn:  # done 31 and 29 days ago; the open one received 60 days ago
        for request, done_days in ((old, 31), (recent, 29)):
            conn.execute(callback_requests.update().where(callback_requests.c.request_id == request["request_id"])
                         .values(done_at=now - done_days * 86400))
        conn.execute(callback_requests.update().where(callback_requests.c.request_id == open_one["request_id"])
                     .values(received_at=now - 60 * 86400))
    monkeypatch.setenv("FLEET_CURRENT_KIOSK_VERSION", "1.0.0")
    assert main(["--database-url", fresh.url, "suivi"]) == 0
    with engine.connect() as conn:
        names = set(conn.execute(sa.select(callback_requests.c.name)).scalars())
    assert names == {"Récente", "Ouverte"}
    # The period is a setting: 28 days removes the other one too.
    monkeypatch.setenv("FLEET_CALLBACK_RETENTION_DAYS", "28")
    assert main(["--database-url", fresh.url, "suivi"]) == 0
    with engine.connect() as conn:
        assert set(conn.execute(sa.select(callback_requests.c.name)).scalars()) == {"Ouverte"}
