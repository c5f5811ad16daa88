"""Server-side staff sessions (OWASP session management).

At login a new random session id (256 bits) is drawn and put in the signed session cookie; the server keeps
only its SHA-256 digest in ``dash_sessions``. Every request checks that row: it must exist, not be ended,
be younger than the absolute lifetime and have been used within the idle timeout. Logging out ends the
row, a password change or disabling the account ends every row of the account: a cookie copied before
then opens nothing. The id is new at every login (no fixation); nothing else in the cookie grants access.
"""

from __future__ import annotations

import sqlalchemy as sa

from provisioning.fleet.store.staff_schema import sessions
from provisioning.fleet.secrets_hashing import digest, new_secret

COOKIE_KEY = "sid"          # the key of the session id in Flask's signed cookie
ABSOLUTE_LIFETIME_S = 8 * 3600
IDLE_TIMEOUT_S = 30 * 60
TOUCH_EVERY_S = 60          # last_seen_at is written at most once a minute per session
KEEP_ENDED_S = 30 * 86400   # ended rows are kept this long (known addresses for the login throttle)


def open_session(conn: sa.Connection, user_id: int, address: str, now: float) -> str:
    """A new session for ``user_id``; returns the id to put in the cookie (stored only as a digest)."""
    session_id = new_secret()
    conn.execute(sessions.insert().values(id_sha256=digest(session_id), user_id=user_id, address=address[:64],
                                          created_at=now, last_seen_at=now))
    conn.execute(sessions.delete().where(sessions.c.created_at < now - KEEP_ENDED_S))
    return session_id


def session_user(conn: sa.Connection, session_id: str | None, now: float) -> sa.Row | None:
    """The live session (``user_id``, ``last_seen_at``), or None (unknown, ended, too old or idle too long)."""
    if not isinstance(session_id, str) or not session_id or len(session_id) > 128:
        return None
    row = conn.execute(sa.select(sessions.c.user_id, sessions.c.created_at, sessions.c.last_seen_at,
                                 sessions.c.ended_at).where(sessions.c.id_sha256 == digest(session_id))).first()
    if row is None or row.ended_at is not None:
        return None
    if now - row.created_at > ABSOLUTE_LIFETIME_S or now - row.last_seen_at > IDLE_TIMEOUT_S:
        return None
    return row


def touch(conn: sa.Connection, session_id: str, now: float) -> None:
    """Record activity (the idle timeout counts from here)."""
    conn.execute(sessions.update().where(sessions.c.id_sha256 == digest(session_id),
                                         sessions.c.ended_at.is_(None)).values(last_seen_at=now))


def end_session(conn: sa.Connection, session_id: str | None, now: float) -> None:
    if session_id:
        conn.execute(sessions.update().where(sessions.c.id_sha256 == digest(session_id),
                                             sessions.c.ended_at.is_(None)).values(ended_at=now))


def end_user_sessions(conn: sa.Connection, user_id: int, now: float) -> int:
    """End every session of the account (password changed, account disabled); returns how many."""
    return conn.execute(sessions.update().where(sessions.c.user_id == user_id, sessions.c.ended_at.is_(None))
                        .values(ended_at=now)).rowcount


def known_address(conn: sa.Connection, user_id: int, address: str, now: float) -> bool:
    """Whether the account logged in from ``address`` in the last 30 days."""
    return conn.execute(sa.select(sessions.c.id_sha256).where(
        sessions.c.user_id == user_id, sessions.c.address == address[:64],
        sessions.c.created_at > now - KEEP_ENDED_S).limit(1)).first() is not None
