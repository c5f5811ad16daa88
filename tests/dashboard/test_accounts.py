"""Accounts: argon2id hashes, login, CSRF on every form, the login rate limit (more in test_login_throttle.py),
session cookies (server-side sessions: test_sessions.py), and
``fleet user add`` / ``fleet demo-login`` (no default password; a generated one is shown once)."""

from __future__ import annotations

import re
import time

import sqlalchemy as sa

from dashboard_helpers import csrf_token, login


def test_passwords_are_stored_as_argon2id_hashes(fresh_sqlite):
    from provisioning.fleet.store.staff_schema import users
    with fresh_sqlite.app.extensions["fleet_engine"].connect() as conn:
        rows = conn.execute(sa.select(users.c.username, users.c.password_hash)).all()
    for username, password_hash in rows:
        assert password_hash.startswith("$argon2id$"), username
        assert fresh_sqlite.passwords[username] not in password_hash


def test_the_fleet_server_hashes_with_the_rfc_9106_low_memory_profile():
    """The suite hashes with argon2id's lowest cost (tests/conftest.py); the server's own code, in a
    process of its own, uses RFC 9106's low-memory profile, and an unknown account costs as much."""
    import subprocess
    import sys

    script = ("from provisioning.fleet.accounts import passwords, store\n"
              "print(passwords.hash_password('un mot de passe de test'))\n"
              "print(store._DUMMY_HASH)")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    made, dummy = result.stdout.split()
    for password_hash in (made, dummy):
        assert password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$"), password_hash


def test_login_with_the_right_password_opens_the_dashboard(fresh_sqlite):
    client = fresh_sqlite.app.test_client()
    response = login(client, "staff", fresh_sqlite.passwords["staff"])
    assert response.status_code == 302
    assert client.get("/tableau/").status_code == 200


def test_a_wrong_password_or_unknown_account_is_refused_in_french(fresh_sqlite):
    client = fresh_sqlite.app.test_client()
    for username, password in (("staff", "not-the-password"), ("nobody", "whatever-password"), ("staff", "")):
        response = login(client, username, password)
        assert response.status_code in (400, 401)
        assert client.get("/tableau/").status_code == 302
    assert "Identifiant ou mot de passe incorrect" in login(client, "staff", "wrong-again").get_data(as_text=True)


def test_login_is_refused_without_its_csrf_token(fresh_sqlite):
    client = fresh_sqlite.app.test_client()
    client.get("/connexion")
    response = client.post("/connexion", data={"username": "staff", "password": fresh_sqlite.passwords["staff"]})
    assert response.status_code == 400
    assert client.get("/tableau/").status_code == 302
    response = client.post("/connexion", data={"csrf_token": "forged", "username": "staff",
                                               "password": fresh_sqlite.passwords["staff"]})
    assert response.status_code == 400


def test_every_changing_form_is_refused_without_its_csrf_token(fresh_sqlite):
    client = fresh_sqlite.client("admin")
    for path, fields in (("/tableau/machines/LUCH-001/jeton/revoquer", {}),
                         ("/tableau/machines/LUCH-001/jeton/renouveler", {}),
                         ("/tableau/machines/LUCH-001/commune", {"commune": "65286"}),
                         ("/tableau/communes/31042", {"postal_code": "99999"}),
                         ("/deconnexion", {})):
        response = client.post(path, data=fields)
        assert response.status_code == 400, path
    lifecycle = client.post("/tableau/machines/LUCH-001/cycle", data={"lifecycle_state": "recycled"})
    assert lifecycle.status_code == 302
    page = client.get("/tableau/machines/LUCH-001").get_data(as_text=True)
    assert 'aria-current="step" class="current">Installée' in page  # nothing changed
    assert "jamais" not in page.split("Jetons actifs")[1][:40]
    assert "1" in page.split("Jetons actifs</dt><dd>")[1][:3]  # token still active
    assert "Bagnères-de-Luchon (31042)" in page


def test_changes_with_their_csrf_token_are_applied(fresh_sqlite):
    client = fresh_sqlite.client("staff")
    page = client.get("/tableau/machines/LUCH-001").get_data(as_text=True)
    token = csrf_token(page)
    client.post("/tableau/machines/LUCH-001/cycle", data={
        "csrf_token": token, "lifecycle_state": "returned", "donor": "Crédit Agricole Pyrénées",
        "intake_date": "2026-03-14", "erasure_certificate": "EFF-2026-0042"})
    client.post("/tableau/machines/LUCH-001/commune", data={"csrf_token": token, "commune": "65286"})
    client.post("/tableau/machines/LUCH-001/jeton/revoquer", data={"csrf_token": token})
    page = client.get("/tableau/machines/LUCH-001").get_data(as_text=True)
    assert 'class="current">Revenue' in page and "Crédit Agricole Pyrénées" in page and "EFF-2026-0042" in page
    assert "Lourdes (65286)" in page and "de 31042 vers 65286 (par staff)" in page
    assert "Jetons actifs</dt><dd>0" in page
    # The revoked token no longer checks in.
    from dashboard_helpers import api
    answer = api(fresh_sqlite.app.test_client(), "/api/v1/checkin",
                 {"protocol": 1, "sent_at": time.time(), "records": []}, fresh_sqlite.tokens["LUCH-001"])
    assert answer.status_code == 401


def test_login_is_rate_limited_per_account_and_address_even_with_the_right_password(fresh_sqlite):
    client = fresh_sqlite.app.test_client()
    for attempt in range(5):
        assert login(client, "admin", f"wrong-{attempt}").status_code == 401
    blocked = login(client, "admin", fresh_sqlite.passwords["admin"])
    assert blocked.status_code == 429
    assert "Trop d&#39;essais depuis cette adresse" in blocked.get_data(as_text=True)
    # Another account from another address is not affected.
    assert login(fresh_sqlite.app.test_client(), "staff", fresh_sqlite.passwords["staff"], ip="127.0.0.9").status_code == 302


def test_login_is_rate_limited_per_address(fresh_sqlite):
    client = fresh_sqlite.app.test_client()
    for attempt in range(20):
        login(client, f"someone{attempt}", "wrong-password", ip="127.0.0.7")
    assert login(client, "staff", fresh_sqlite.passwords["staff"], ip="127.0.0.7").status_code == 429
    assert login(client, "staff", fresh_sqlite.passwords["staff"], ip="127.0.0.8").status_code == 302


def test_sessions_have_a_lifetime_and_safe_cookies(fresh_sqlite):
    app = fresh_sqlite.app
    assert app.permanent_session_lifetime.total_seconds() <= 8 * 3600
    client = app.test_client()
    page = client.get("/connexion")
    response = client.post("/connexion", data={"csrf_token": csrf_token(page.get_data(as_text=True)),
                                                "username": "staff", "password": fresh_sqlite.passwords["staff"]})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Expires=" in cookie


def test_logout_ends_the_session(fresh_sqlite):
    client = fresh_sqlite.client("staff")
    token = csrf_token(client.get("/tableau/").get_data(as_text=True))
    assert client.post("/deconnexion", data={"csrf_token": token}).status_code == 302
    assert client.get("/tableau/").status_code == 302


def test_login_never_redirects_off_site(fresh_sqlite):
    client = fresh_sqlite.app.test_client()
    page = client.get("/connexion?next=//evil.example/")
    response = client.post("/connexion?next=//evil.example/", data={
        "csrf_token": csrf_token(page.get_data(as_text=True)), "username": "staff",
        "password": fresh_sqlite.passwords["staff"]})
    assert response.headers["Location"].endswith("/tableau/")


def run_fleet(url: str, *args: str, stdin: str = "") -> tuple[int, str, str]:
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-m", "provisioning.fleet.cli", "--database-url", url, *args],
                          input=stdin, capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", "FLEET_TESTING": "1"})
    return done.returncode, done.stdout, done.stderr


def test_fleet_user_add_prints_a_generated_password_once_and_it_works(fresh_sqlite):
    code, out, err = run_fleet(fresh_sqlite.url, "user", "add", "marie", "--role", "staff", "--generate-password")
    assert code == 0, err
    password = re.search(r"Mot de passe : (\S+)", out).group(1)
    assert len(password) >= 16 and "ne sera plus jamais affiché" in err
    assert login(fresh_sqlite.app.test_client(), "marie", password).status_code == 302
    code, out, _ = run_fleet(fresh_sqlite.url, "user", "list")
    assert "marie\tstaff" in out and password not in out


def test_fleet_user_add_refuses_bad_input_with_exit_code_2(fresh_sqlite):
    for args, message in ((("user", "add", "x", "--role", "staff"), "identifiant invalide"),
                          (("user", "add", "mairie-a", "--role", "commune"), "code INSEE"),
                          (("user", "add", "staff", "--role", "staff"), "existe déjà"),
                          (("user", "add", "paul", "--role", "staff", "--commune", "31042"), "rôle commune")):
        code, _, err = run_fleet(fresh_sqlite.url, *args)
        assert code == 2 and message in err, (args, err)


def test_demo_login_gives_a_fresh_password_each_time(fresh_sqlite):
    first = re.search(r"Mot de passe : (\S+)", run_fleet(fresh_sqlite.url, "demo-login")[1]).group(1)
    second = re.search(r"Mot de passe : (\S+)", run_fleet(fresh_sqlite.url, "demo-login")[1]).group(1)
    assert first != second
    assert login(fresh_sqlite.app.test_client(), "demo", first).status_code == 401
    assert login(fresh_sqlite.app.test_client(), "demo", second).status_code == 302
