"""The lifecycle of an assistance session in the store (``assist_sessions``): asked, started, ended.

A machine has at most one session not ended: a second mediator asking while one is pending or running
gets :class:`AssistBusy` (she cannot join). Ending is idempotent: the first reason wins. Nothing but
names and moments is written here; images, points and messages stay in the relay's memory.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

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


def waiting_requests(conn: sa.Connection) -> dict:
    """Every request not answered yet, by machine: {device id: row (id, requested_at, kiosk_key_sha256)}.
    One query for the whole fleet (the kiosks' polls read its result from the relay's memory)."""
    rows = conn.execute(sa.select(table.c.device_id, table.c.id, table.c.requested_at, table.c.kiosk_key_sha256)
                        .where(table.c.ended_at.is_(None), table.c.started_at.is_(None)).order_by(table.c.id))
    return {row.device_id: row for row in rows}


def get(conn: sa.Connection, session_id: int):
    return conn.execute(sa.select(table).where(table.c.id == session_id)).first()


def create(conn: sa.Connection, device_id: int, user_id: int, name: str, title: str, now: float) -> int:
    current = ongoing(conn, device_id)
    if current is not None and current.started_at is None and now - current.requested_at > ANSWER_TIMEOUT_S:
        end(conn, current.id, "unanswered", now)
        current = None
    if current is not None:
        raise AssistBusy(current.id)
    forget_hints()
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
    forget_hints()
    return conn.execute(table.update().where(table.c.id == session_id, table.c.started_at.is_(None),
                                             table.c.ended_at.is_(None)).values(started_at=now)).rowcount == 1


def end(conn: sa.Connection, session_id: int, reason: str, now: float) -> bool:
    """End the session (once: the first reason is kept); the key stops working. True if it was ongoing."""
    forget_hints()
    return conn.execute(table.update().where(table.c.id == session_id, table.c.ended_at.is_(None)).values(
        ended_at=now, end_reason=reason, kiosk_key_sha256=None)).rowcount == 1


def of_device(conn: sa.Connection, device_id: int, limit: int = 20) -> list:
    return list(conn.execute(sa.select(table).where(table.c.device_id == device_id)
                             .order_by(table.c.requested_at.desc()).limit(limit)))


PENDING_HINTS = """
SELECT device_id, id, mediator_name FROM assist_sessions
WHERE ended_at IS NULL AND started_at IS NULL ORDER BY id LIMIT 1000
"""
HINTS_TTL_S = 2.0
_hints: dict[int, tuple[float, dict]] = {}  # per engine: (valid until, {device id: hint})


def forget_hints() -> None:
    """A request was made, answered or ended in this process: the next check-in reads them again."""
    _hints.clear()


def pending_hints_on(dbapi_connection, engine, now: float) -> dict:
    """Every request waiting for a kiosk's answer, read at most once per ``HINTS_TTL_S`` per process (one
    small query for all check-ins of those seconds, not one per check-in), on the check-in's driver
    connection, left with no transaction."""
    cached = _hints.get(id(engine))
    if cached is not None and cached[0] > now:
        return cached[1]
    rows = hot_sql.fetch_all_on(dbapi_connection, engine.dialect.name, PENDING_HINTS, {})
    hints = {int(device_id): {"id": int(session_id), "mediator": name} for device_id, session_id, name in rows}
    _hints[id(engine)] = (now + HINTS_TTL_S, hints)
    return hints


def with_hint_on(answer: dict, dbapi_connection, engine, device_id: int) -> dict:
    """The check-in answer, with the optional key ``assist`` ({id, mediator}; the agent fetches the key
    from ``/api/v1/assist/poll``) when a mediator waits for this kiosk."""
    hint = pending_hints_on(dbapi_connection, engine, time.monotonic()).get(device_id)
    return answer if hint is None else {**answer, "assist": hint}
