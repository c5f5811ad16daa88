"""An admin sends a staff member a single-use password-reset link (issue 16 point 7): the link arrives by
e-mail (SMTP sink on loopback), sets a new password once, ends the account's sessions, expires, and only
its hash is stored; the public « mot de passe oublié » page tells nothing about who has an account."""

from __future__ import annotations

import dataclasses
import re
import time

import sqlalchemy as sa

from dashboard_helpers import csrf_token, login
from smtp_sink import SmtpSink


def send_link(fleet, port: int, username: str = "staff") -> str:
    fleet.app.config["FLEET_SETTINGS"] = dataclasses.replace(
        fleet.app.config["FLEET_SETTINGS"], smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False,
        public_url="https://parc.asso.example")
    admin = fleet.client("admin")
    page = admin.get("/tableau/comptes").get_data(as_text=True)
    user_id = re.search(rf'/tableau/comptes/(\d+)/lien"[^<]*>\s*<input[^>]+>\s*<label for="email-\d+">Adresse de {username}<',
                        page).group(1)
    answer = admin.post(f"/tableau/comptes/{user_id}/lien", data={"csrf_token": csrf_token(page),
                                                                   "email": "claire@asso.example"})
    assert answer.status_code == 302
    return user_id


def test_a_link_sets_a_new_password_once_and_ends_the_sessions(fresh_sqlite):
    staff_session = fresh_sqlite.client("staff")
    with SmtpSink() as sink:
        send_link(fresh_sqlite, sink.port)
    (to, message), = sink.messages
    assert to == ["claire@asso.example"]
    link = re.search(r"https://parc\.asso\.example(/mot-de-passe/\S+)", message.get_content()).group(1)
    token = link.rsplit("/", 1)[1]
    from provisioning.fleet.store.followup_schema import password_resets
    with fresh_sqlite.app.extensions["fleet_engine"].connect() as conn:
        stored = conn.execute(sa.select(password_resets.c.token_sha256)).scalars().all()
    assert len(stored) == 1 and token not in stored[0]  # only the hash is kept

    client = fresh_sqlite.app.test_client()
    page = client.get(link)
    assert page.status_code == 200
    weak = client.post(link, data={"csrf_token": csrf_token(page.get_data(as_text=True)), "password": "court",
                                   "again": "court"})
    assert weak.status_code == 400 and "au moins" in weak.get_data(as_text=True)
    new = "un-nouveau-mot-de-passe-solide"
    done = client.post(link, data={"csrf_token": csrf_token(page.get_data(as_text=True)), "password": new, "again": new})
    assert done.status_code == 302 and "/connexion" in done.headers["Location"]
    assert staff_session.get("/tableau/").status_code == 302  # the open session was ended
    assert login(fresh_sqlite.app.test_client(), "staff", new).status_code == 302
    assert login(fresh_sqlite.app.test_client(), "staff", fresh_sqlite.passwords["staff"]).status_code == 401
    again = client.get(link)  # single use
    assert again.status_code == 404 and "déjà servi ou expiré" in again.get_data(as_text=True)


def test_an_expired_or_unknown_link_opens_nothing_and_says_the_same(fresh_sqlite, monkeypatch):
    from provisioning.fleet.accounts import reset
    with SmtpSink() as sink:
        send_link(fresh_sqlite, sink.port)
    link = re.search(r"(/mot-de-passe/\S+)", sink.messages[0][1].get_content()).group(1)
    client = fresh_sqlite.app.test_client()
    monkeypatch.setattr(time, "time", lambda: reset.LINK_LIFETIME_S + 10 + __import__("datetime").datetime.now().timestamp())
    expired = client.get(link)
    unknown = client.get("/mot-de-passe/" + "A" * 43)
    assert expired.status_code == unknown.status_code == 404
    assert expired.get_data(as_text=True) == unknown.get_data(as_text=True)


def test_the_forgotten_password_page_asks_for_nothing(fresh_sqlite):
    client = fresh_sqlite.app.test_client()
    assert "Mot de passe oublié" in client.get("/connexion").get_data(as_text=True)
    page = client.get("/mot-de-passe-oublie").get_data(as_text=True)
    assert "administrateur" in page and "<input" not in page.replace('name="csrf_token"', "")
    assert client.post("/mot-de-passe-oublie", data={"email": "staff@asso.example"}).status_code == 405


def test_only_an_admin_sends_links(fresh_sqlite):
    staff = fresh_sqlite.client("staff")
    token = csrf_token(staff.get("/tableau/").get_data(as_text=True))
    assert staff.post("/tableau/comptes/1/lien", data={"csrf_token": token, "email": "x@y.fr"}).status_code == 403
