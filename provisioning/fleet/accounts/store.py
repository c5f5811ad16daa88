"""Users in the database (login throttling: throttle.py; server-side sessions: sessions.py)."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import sqlalchemy as sa

from provisioning.fleet.accounts import sessions
from provisioning.fleet.accounts.passwords import generate_password, hash_password, needs_rehash, verify_password
from provisioning.fleet.store.staff_schema import ROLES, users

DEMO_USERNAME = "demo"
USERNAME_PATTERN = r"[a-z0-9][a-z0-9._-]{1,63}"
INSEE_PATTERN = r"\d{5}|2[AB]\d{3}"
# A valid hash to verify against when the account does not exist (same cost, no user enumeration).
_DUMMY_HASH = hash_password("not-a-real-account-password")


class AccountError(ValueError):
    """Bad input for an account, with a French message naming the field."""


@dataclass(frozen=True)
class User:
    id: int
    username: str
    role: str
    commune_insee: str | None

    # Flask-Login's protocol
    is_authenticated = True
    is_active = True
    is_anonymous = False

    def get_id(self) -> str:
        return str(self.id)

    def sees_commune(self, insee: str | None) -> bool:
        return self.role != "commune" or (insee is not None and insee == self.commune_insee)


def _user(row) -> User:
    return User(id=row.id, username=row.username, role=row.role, commune_insee=row.commune_insee)


def create_user(conn: sa.Connection, username: str, password: str, role: str, commune_insee: str | None) -> User:
    if not re.fullmatch(USERNAME_PATTERN, username or ""):
        raise AccountError(f"identifiant invalide « {username} » : 2 à 64 caractères, minuscules, chiffres, . _ -")
    if role not in ROLES:
        raise AccountError(f"rôle inconnu « {role} » : choisissez admin, staff ou commune")
    if role == "commune":
        if not commune_insee or not re.fullmatch(INSEE_PATTERN, commune_insee):
            raise AccountError("un compte commune doit avoir un code INSEE de 5 caractères (--commune 31042)")
    elif commune_insee:
        raise AccountError("--commune ne s'emploie qu'avec le rôle commune")
    if conn.execute(sa.select(users.c.id).where(users.c.username == username)).first():
        raise AccountError(f"l'identifiant « {username} » existe déjà")
    new_id = conn.execute(users.insert().values(
        username=username, password_hash=hash_password(password), role=role, commune_insee=commune_insee,
        created_at=time.time(), disabled=False)).inserted_primary_key[0]
    return User(id=new_id, username=username, role=role, commune_insee=commune_insee)


def _user_id(conn: sa.Connection, username: str) -> int:
    user_id = conn.execute(sa.select(users.c.id).where(users.c.username == username)).scalar_one_or_none()
    if user_id is None:
        raise AccountError(f"aucun compte « {username} »")
    return user_id


def set_password(conn: sa.Connection, username: str, password: str) -> None:
    """A new password; every open session of the account ends (a copied cookie opens nothing)."""
    user_id = _user_id(conn, username)
    conn.execute(users.update().where(users.c.id == user_id).values(password_hash=hash_password(password)))
    sessions.end_user_sessions(conn, user_id, time.time())


def disable_user(conn: sa.Connection, username: str) -> None:
    user_id = _user_id(conn, username)
    conn.execute(users.update().where(users.c.id == user_id).values(disabled=True))
    sessions.end_user_sessions(conn, user_id, time.time())


def demo_login(conn: sa.Connection) -> tuple[str, str]:
    """A fresh password for the ``demo`` admin (created if needed); returns (username, password)."""
    password = generate_password()
    if conn.execute(sa.select(users.c.id).where(users.c.username == DEMO_USERNAME)).first():
        set_password(conn, DEMO_USERNAME, password)
    else:
        create_user(conn, DEMO_USERNAME, password, "admin", None)
    return DEMO_USERNAME, password


def list_users(conn: sa.Connection) -> list[sa.Row]:
    return list(conn.execute(sa.select(users).order_by(users.c.username)))


def load_user(conn: sa.Connection, user_id: int) -> User | None:
    row = conn.execute(sa.select(users).where(users.c.id == user_id, users.c.disabled.is_(False))).first()
    return _user(row) if row else None


def authenticate(conn: sa.Connection, username: str, password: str) -> tuple[User | None, str | None]:
    """The user if the password is right, and a new hash to store when the parameters have changed.
    Reads only: the slow hash check never holds the database's write lock."""
    row = conn.execute(sa.select(users).where(users.c.username == username, users.c.disabled.is_(False))).first()
    if row is None:
        verify_password(_DUMMY_HASH, password)
        return None, None
    if not verify_password(row.password_hash, password):
        return None, None
    return _user(row), hash_password(password) if needs_rehash(row.password_hash) else None


def store_rehash(conn: sa.Connection, user_id: int, password_hash: str) -> None:
    conn.execute(users.update().where(users.c.id == user_id).values(password_hash=password_hash))
