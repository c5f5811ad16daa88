"""Single-use password-reset links that an administrator sends to a staff member (issue 16 point 7).

The link carries a random token (256 bits); only its SHA-256 is stored, with an expiry (24 h). Making a
new link cancels the account's earlier unused ones; using it sets the password, spends the link and ends
every open session of the account. A wrong, spent or expired token gets the same answer as an unknown
one, and the public "mot de passe oublié" page asks for nothing, so neither says which accounts or
addresses exist.
"""

from __future__ import annotations

import hashlib
import secrets

import sqlalchemy as sa

from provisioning.fleet.accounts import sessions
from provisioning.fleet.accounts.passwords import hash_password
from provisioning.fleet.store.followup_schema import password_resets
from provisioning.fleet.store.staff_schema import users

LINK_LIFETIME_S = 24 * 3600


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_link_token(conn: sa.Connection, user_id: int, now: float) -> str:
    """A new token for the account (earlier unused ones are cancelled); returned once, never stored."""
    conn.execute(password_resets.update().where(password_resets.c.user_id == user_id,
                                                password_resets.c.used_at.is_(None)).values(used_at=now))
    token = secrets.token_urlsafe(32)
    conn.execute(password_resets.insert().values(token_sha256=_digest(token), user_id=user_id, created_at=now,
                                                 expires_at=now + LINK_LIFETIME_S))
    return token


def valid_user(conn: sa.Connection, token: str, now: float) -> int | None:
    """The account a live token opens, or None (unknown, spent, expired, or a disabled account)."""
    if not token or len(token) > 128:
        return None
    row = conn.execute(sa.select(password_resets.c.user_id).select_from(
        password_resets.join(users, users.c.id == password_resets.c.user_id)).where(
        password_resets.c.token_sha256 == _digest(token), password_resets.c.used_at.is_(None),
        password_resets.c.expires_at > now, users.c.disabled.is_(False))).first()
    return None if row is None else row.user_id


def use_token(conn: sa.Connection, token: str, password: str, now: float) -> bool:
    """Set the password with a live token, spending it; False when the token opens nothing."""
    user_id = valid_user(conn, token, now)
    if user_id is None:
        return False
    spent = conn.execute(password_resets.update().where(
        password_resets.c.token_sha256 == _digest(token), password_resets.c.used_at.is_(None))
        .values(used_at=now)).rowcount
    if spent != 1:  # used by a concurrent request meanwhile
        return False
    conn.execute(users.update().where(users.c.id == user_id).values(password_hash=hash_password(password)))
    sessions.end_user_sessions(conn, user_id, now)
    return True
