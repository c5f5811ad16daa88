"""Login throttling keyed on the real client (issue 15): behind a declared number of trusted proxies the
client is the address the proxy saw (X-Forwarded-For); with none, the header is ignored. Failures lock an
(account, address) pair or an address, and only slow an account down: an attacker cannot lock a staff
member out from other addresses. Real app, SQLite and PostgreSQL."""

from __future__ import annotations

import itertools

import pytest
import sqlalchemy as sa

from dashboard_helpers import csrf_token

NGINX = "127.0.0.1"   # the reverse proxy, as gunicorn sees it


@pytest.fixture
def proxied(fresh):
    """The same fleet served as behind nginx: ``trusted_proxies = 1``."""
    from provisioning.fleet import create_app
    app = create_app({"database_url": fresh.url, "testing": True, "secret_key": "test-" + "k" * 40,
                      "trusted_proxies": 1})
    yield app
    app.extensions["fleet_engine"].dispose()


def attempt(app, username: str, password: str, peer: str, forwarded_for: str | None = None) -> int:
    """One login in a fresh browser from ``peer`` (the TCP peer) with an optional X-Forwarded-For."""
    client = app.test_client()
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    environ = {"REMOTE_ADDR": peer}
    page = client.get("/connexion", headers=headers, environ_base=environ)
    response = client.post("/connexion", headers=headers, environ_base=environ, data={
        "csrf_token": csrf_token(page.get_data(as_text=True)), "username": username, "password": password})
    return response.status_code


def _stored_subjects(fleet) -> set[str]:
    from provisioning.fleet.store.staff_schema import login_failures
    with fleet.app.extensions["fleet_engine"].connect() as conn:
        return set(conn.execute(sa.select(login_failures.c.subject)).scalars())


def test_behind_a_proxy_failures_lock_the_attackers_address_not_the_staff_member(fresh, proxied):
    right = fresh.passwords["staff"]
    for n in range(5):
        assert attempt(proxied, "staff", f"guess-{n}", NGINX, "203.0.113.66") == 401
    assert attempt(proxied, "staff", right, NGINX, "203.0.113.66") == 429     # that pair is locked...
    assert attempt(proxied, "staff", right, NGINX, "198.51.100.10") == 302    # ...not the staff member
    assert "ip:203.0.113.66" in _stored_subjects(fresh) and f"ip:{NGINX}" not in _stored_subjects(fresh)


def test_behind_a_proxy_a_client_supplied_header_does_not_hide_the_real_address(fresh, proxied):
    """nginx appends the address it saw to what the client sent: only that last entry is believed."""
    for n in range(5):
        spoofed = f"10.9.8.{n}, 203.0.113.77"
        assert attempt(proxied, "admin", f"guess-{n}", NGINX, spoofed) == 401
    assert attempt(proxied, "admin", fresh.passwords["admin"], NGINX, "10.0.0.99, 203.0.113.77") == 429


def test_twenty_failures_from_many_addresses_never_lock_the_right_password_for_everyone(fresh, proxied):
    """Before: behind nginx every client had nginx's address, and 20 failures locked everyone out."""
    right = fresh.passwords["staff"]
    assert attempt(proxied, "staff", right, NGINX, "198.51.100.10") == 302    # the staff member's office
    addresses = (f"203.0.113.{n}" for n in itertools.count(1))
    answers = [attempt(proxied, "staff", f"guess-{n}", NGINX, address)          # 32 guesses, 8 addresses
               for address in itertools.islice(addresses, 8) for n in range(4)]
    assert answers[:10] == [401] * 10 and set(answers) == {401, 429}
    assert answers.count(401) < 20          # past 10 failures, guesses in a row are slowed down
    # From the office (the account logged in from there): never slowed, never locked.
    assert attempt(proxied, "staff", right, NGINX, "198.51.100.10") == 302
    # Other accounts from the same proxy: untouched.
    assert attempt(proxied, "admin", fresh.passwords["admin"], NGINX, "198.51.100.11") == 302
    # From a new address right after a failure the account is only slowed (a few seconds), not locked.
    _age_failures(fresh, seconds=6)
    assert attempt(proxied, "staff", "guess-x", NGINX, "203.0.113.200") == 401
    assert attempt(proxied, "staff", right, NGINX, "192.0.2.44") == 429
    _age_failures(fresh, seconds=6)
    assert attempt(proxied, "staff", right, NGINX, "192.0.2.44") == 302


def _age_failures(fleet, seconds: float) -> None:
    from provisioning.fleet.store.staff_schema import login_failures
    with fleet.app.extensions["fleet_engine"].begin() as conn:
        conn.execute(login_failures.update().values(at=login_failures.c.at - seconds))


def test_an_address_with_twenty_failures_is_locked_for_every_account(fresh, proxied):
    for n in range(20):
        assert attempt(proxied, f"someone{n}", "wrong-password", NGINX, "203.0.113.90") == 401
    assert attempt(proxied, "staff", fresh.passwords["staff"], NGINX, "203.0.113.90") == 429
    assert attempt(proxied, "staff", fresh.passwords["staff"], NGINX, "203.0.113.91") == 302


def test_without_trusted_proxies_a_spoofed_header_is_ignored(fresh, monkeypatch, caplog):
    """trusted_proxies = 0 (gunicorn facing the network): X-Forwarded-For is the attacker's own text."""
    from provisioning.fleet.accounts import views
    monkeypatch.setattr(views, "_warned_about_proxy", False)
    app = fresh.app
    for n in range(5):
        assert attempt(app, "admin", f"guess-{n}", "192.0.2.5", f"198.51.100.{n}") == 401
    assert attempt(app, "admin", fresh.passwords["admin"], "192.0.2.5", "198.51.100.200") == 429
    assert attempt(app, "admin", fresh.passwords["admin"], "192.0.2.6") == 302
    subjects = _stored_subjects(fresh)
    assert "ip:192.0.2.5" in subjects and not any("198.51.100" in subject for subject in subjects)
    # The log says once that the header was ignored (a server behind nginx left at 0 would share one address).
    warnings = [r for r in caplog.records if "FLEET_TRUSTED_PROXIES is 0" in r.getMessage()]
    assert len(warnings) == 1


def test_the_session_records_the_real_client_address(fresh, proxied):
    from provisioning.fleet.store.staff_schema import sessions
    assert attempt(proxied, "staff", fresh.passwords["staff"], NGINX, "10.1.2.3, 198.51.100.10") == 302
    assert attempt(fresh.app, "admin", fresh.passwords["admin"], "192.0.2.7", "198.51.100.99") == 302
    with fresh.app.extensions["fleet_engine"].connect() as conn:
        addresses = set(conn.execute(sa.select(sessions.c.address)).scalars())
    assert addresses == {"198.51.100.10", "192.0.2.7"}
