"""Server-side staff sessions (issue 15): logout and a password change end every copy of a session, the 8 h
lifetime and the 30 min idle timeout are enforced by the server, the session id is new at each login and
stored only as a digest. Real app, SQLite and PostgreSQL."""

from __future__ import annotations

import time

import sqlalchemy as sa

from dashboard_helpers import csrf_token, login


def _engine(fleet):
    return fleet.app.extensions["fleet_engine"]


def _copy_of(fleet, client):
    """Another browser holding a copy of ``client``'s session cookie (stolen, or a shared computer)."""
    thief = fleet.app.test_client()
    cookie = client.get_cookie("session")
    assert cookie is not None
    thief.set_cookie("session", cookie.value)
    return thief


def _sid(client) -> str:
    with client.session_transaction() as session:
        return session["sid"]


def _opens_dashboard(client) -> bool:
    response = client.get("/tableau/")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def test_a_cookie_copied_before_logout_no_longer_opens_the_dashboard(fresh):
    client = fresh.client("staff")
    thief = _copy_of(fresh, client)
    assert _opens_dashboard(thief)
    token = csrf_token(client.get("/tableau/").get_data(as_text=True))
    assert client.post("/deconnexion", data={"csrf_token": token}).status_code == 302
    assert not _opens_dashboard(thief)
    assert not _opens_dashboard(client)


def test_a_password_change_ends_every_session_of_the_account(fresh):
    from provisioning.fleet.accounts import store
    from provisioning.fleet.store.engine import write_transaction
    office, laptop, other_account = fresh.client("staff"), fresh.client("staff"), fresh.client("admin")
    thief = _copy_of(fresh, office)
    assert all(_opens_dashboard(c) for c in (office, laptop, thief, other_account))
    with write_transaction(_engine(fresh)) as conn:           # what `fleet user password staff` does
        store.set_password(conn, "staff", "a-brand-new-password-42")
    assert not any(_opens_dashboard(c) for c in (office, laptop, thief))
    assert _opens_dashboard(other_account)
    assert login(fresh.app.test_client(), "staff", "a-brand-new-password-42").status_code == 302


def test_disabling_an_account_ends_its_sessions(fresh):
    from provisioning.fleet.accounts import store
    from provisioning.fleet.store.engine import write_transaction
    client = fresh.client("commune")
    with write_transaction(_engine(fresh)) as conn:
        store.disable_user(conn, "commune")
    assert not _opens_dashboard(client)


def _age_session(fleet, client, **seconds_ago):
    from provisioning.fleet.accounts.sessions import digest
    from provisioning.fleet.store.staff_schema import sessions
    now = time.time()
    with _engine(fleet).begin() as conn:
        conn.execute(sessions.update().where(sessions.c.id_sha256 == digest(_sid(client))).values(
            **{column: now - ago for column, ago in seconds_ago.items()}))


def test_the_8_hour_lifetime_is_enforced_by_the_server_even_for_an_active_session(fresh):
    client = fresh.client("staff")
    thief = _copy_of(fresh, client)
    _age_session(fresh, client, created_at=8 * 3600 - 120, last_seen_at=5)
    assert _opens_dashboard(client)
    _age_session(fresh, client, created_at=8 * 3600 + 1, last_seen_at=5)
    assert not _opens_dashboard(thief)      # whatever the cookie says: the server's row decides
    assert not _opens_dashboard(client)


def test_a_session_ends_after_30_minutes_without_activity(fresh):
    client = fresh.client("staff")
    _age_session(fresh, client, created_at=3600, last_seen_at=29 * 60)
    assert _opens_dashboard(client)          # this request counts as activity...
    from provisioning.fleet.accounts.sessions import digest
    from provisioning.fleet.store.staff_schema import sessions
    with _engine(fresh).connect() as conn:
        seen = conn.execute(sa.select(sessions.c.last_seen_at).where(
            sessions.c.id_sha256 == digest(_sid(client)))).scalar_one()
    assert time.time() - seen < 60           # ...recorded on the server
    _age_session(fresh, client, last_seen_at=31 * 60)
    assert not _opens_dashboard(client)
    assert not _opens_dashboard(client)      # refused for good, not once


def test_each_login_gets_a_new_session_id_stored_only_as_a_digest(fresh):
    from provisioning.fleet.accounts.sessions import digest
    from provisioning.fleet.store.staff_schema import sessions
    client = fresh.client("staff")
    first = _sid(client)
    thief = _copy_of(fresh, client)
    assert login(client, "staff", fresh.passwords["staff"]).status_code == 302
    second = _sid(client)
    assert first != second and len(second) >= 43
    assert not _opens_dashboard(thief)       # logging in again ended the previous session
    assert _opens_dashboard(client)
    with _engine(fresh).connect() as conn:
        stored = conn.execute(sa.select(sessions.c.id_sha256)).scalars().all()
    assert digest(second) in stored and second not in stored and first not in stored


def test_a_forged_or_missing_session_id_opens_nothing(fresh):
    client = fresh.client("staff")
    with client.session_transaction() as session:
        session["sid"] = "forged-session-id"
    assert not _opens_dashboard(client)
    client = fresh.client("staff")
    with client.session_transaction() as session:
        del session["sid"]
    assert not _opens_dashboard(client)
