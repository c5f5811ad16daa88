"""The lifecycle of an assistance session in the store (``assist_sessions``): asked, started, ended.

A machine has at most one session not ended: a second mediator asking while one is pending or running
gets :class:`AssistBusy` (she cannot join). Ending is idempotent: the first reason wins. Nothing but
names and moments is written here; images, points and messages stay in the relay's memory.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

import sqlalchemy as sa

from provisioning.fleet.store import hot_sql
from provisioning.fleet.store.assist_schema import assist_sessions as table

ANSWER_TIMEOUT_S = 120  # a request nobody answered at the kiosk ends as "unanswered"


class AssistBusy(Exception):
    """The machine already has an assistance session pending or running."""


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def ongoing(conn: sa.Connection, device_id: int):
    return conn.execute(sa.select(table).where(table.c.device_id == device_id, table.c.ended_at.is_(None))
                        .order_by(table.c.id.desc()).limit(1)).first()


def get(conn: sa.Connection, session_id: int):
    return conn.execute(sa.select(table).where(table.c.id == session_id)).first()


def create(conn: sa.Connection, device_id: int, user_id: int, name: str, title: str, now: float) -> int:
    current = ongoing(conn, device_id)
    if current is not None and current.started_at is None and now - current.requested_at > ANSWER_TIMEOUT_S:
        end(conn, current.id, "unanswered", now)
        current = None
    if current is not None:
        raise AssistBusy(current.id)
    return conn.execute(table.insert().values(
        device_id=device_id, mediator_user_id=user_id, mediator_name=name, mediator_title=title,
        requested_at=now)).inserted_primary_key[0]


def issue_key(conn: sa.Connection, session_id: int) -> str:
    """A fresh session key for the kiosk (the previous one stops working); only its digest is kept."""
    key = secrets.token_urlsafe(32)
    conn.execute(table.update().where(table.c.id == session_id).values(kiosk_key_sha256=key_digest(key)))
    return key


def key_matches(row, key: str) -> bool:
    return bool(row is not None and row.kiosk_key_sha256 and key
                and hmac.compare_digest(row.kiosk_key_sha256, key_digest(key)))


def start(conn: sa.Connection, session_id: int, now: float) -> bool:
    return conn.execute(table.update().where(table.c.id == session_id, table.c.started_at.is_(None),
                                             table.c.ended_at.is_(None)).values(started_at=now)).rowcount == 1


def end(conn: sa.Connection, session_id: int, reason: str, now: float) -> bool:
    """End the session (once: the first reason is kept); the key stops working. True if it was ongoing."""
    return conn.execute(table.update().where(table.c.id == session_id, table.c.ended_at.is_(None)).values(
        ended_at=now, end_reason=reason, kiosk_key_sha256=None)).rowcount == 1


def of_device(conn: sa.Connection, device_id: int, limit: int = 20) -> list:
    return list(conn.execute(sa.select(table).where(table.c.device_id == device_id)
                             .order_by(table.c.requested_at.desc()).limit(limit)))


PENDING_HINT = """
SELECT id, mediator_name FROM assist_sessions
WHERE device_id = :device_id AND ended_at IS NULL AND started_at IS NULL ORDER BY id DESC LIMIT 1
"""


def pending_hint_on(dbapi_connection, dialect: str, device_id: int) -> dict | None:
    """For the check-in answer (the check-in's driver connection, one indexed lookup, left with no
    transaction): the request waiting for this kiosk's answer, without its key (the agent fetches the
    key from ``/api/v1/assist/poll``)."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(hot_sql.for_dialect(PENDING_HINT, dialect), {"device_id": device_id})
        row = cursor.fetchone()
    finally:
        cursor.close()
    dbapi_connection.rollback()
    return None if row is None else {"id": int(row[0]), "mediator": row[1]}


def with_hint_on(answer: dict, dbapi_connection, dialect: str, device_id: int) -> dict:
    """The check-in answer, with the optional key ``assist`` when a mediator waits for this kiosk."""
    hint = pending_hint_on(dbapi_connection, dialect, device_id)
    return answer if hint is None else {**answer, "assist": hint}
