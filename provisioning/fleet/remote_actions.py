"""Messages and remote actions, the server side (issue 12 point 3).

Staff queue an action for one kiosk (:func:`queue_action`) or post a banner for one kiosk, a commune or
the whole fleet (:func:`post_message`). Each check-in answer carries what concerns the kiosk
(:func:`add_to_answer_on`, on the check-in's own driver connection): the actions it has not acknowledged
yet, and the banners still in force. The agent acknowledges and reports each action's result
(:func:`record_result`, ``POST /api/v1/actions/<id>/result``). Nothing expires silently: an action that
waits is shown with its age until the kiosk answers or staff cancel it (:func:`cancel_action`).
"""

from __future__ import annotations

import datetime as dt
import functools
import time
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from provisioning.fleet.store import hot_sql
from provisioning.fleet.store.actions_schema import (
    ACTION_KINDS, DETAIL_MAX_CHARS, DIAGNOSTIC_MAX_CHARS, MESSAGE_MAX_CHARS, actions, messages)
from provisioning.fleet.store.engine import read_transaction, write_transaction
from provisioning.fleet.store.schema import communes, devices

MAX_ACTIONS_PER_ANSWER = 10
MAX_MESSAGES_PER_ANSWER = 5
MAX_MESSAGE_DAYS = 92
MAX_WAITING_PER_KIND = 1  # one restart (or reboot, or diagnostic) waiting per kiosk is enough
OPEN_STATES = ("pending", "delivered")
RESULT_STATES = ("accepted", "done", "failed")
FINAL_STATES = ("done", "failed")

KIND_LABELS = {"restart": "Redémarrer la session du kiosque", "reboot": "Redémarrer l'ordinateur (entre deux sessions)",
               "diagnostic": "Collecter un diagnostic (journal du dernier jour, sans données des usagers)"}
STATE_LABELS = {"pending": "en attente", "delivered": "transmise à la borne", "accepted": "acceptée : à la fin de la session",
                "done": "faite", "failed": "échec", "cancelled": "annulée"}

# Read after the check-in's batch is stored, on its driver connection, in one round trip: the kiosk's
# unacknowledged actions (an index range) and the banners in force for it (a handful of rows at most).
ANSWER_ITEMS = f"""
SELECT * FROM (SELECT 'a' AS item, id, kind AS body, state, CAST(NULL AS FLOAT) AS ends_at FROM mgmt_actions
               WHERE device_id = :device_id AND state IN ('pending', 'delivered')
               ORDER BY id LIMIT {MAX_ACTIONS_PER_ANSWER}) AS open_actions
UNION ALL
SELECT * FROM (SELECT 'm' AS item, m.id, m.text AS body, CAST(NULL AS VARCHAR(12)) AS state, m.ends_at FROM mgmt_messages m
               JOIN devices d ON d.id = :device_id
               WHERE m.ends_at > :now AND m.cancelled_at IS NULL
                 AND (m.asset_tag = d.asset_tag
                      OR (m.asset_tag IS NULL AND (m.commune_insee IS NULL OR m.commune_insee = d.commune_insee)))
               ORDER BY m.id DESC LIMIT {MAX_MESSAGES_PER_ANSWER}) AS banners
"""
# Which kiosks have anything waiting (-1: a banner in force, maybe for any kiosk), read at most once per
# ANYONE_WAITING_TTL_S in a process: one small query for all the check-ins of those seconds. Most
# check-ins find their kiosk absent and read nothing more; ANSWER_ITEMS runs only for the others.
ANYONE_WAITING = """
SELECT device_id FROM mgmt_actions WHERE state IN ('pending', 'delivered')
UNION ALL
SELECT -1 FROM mgmt_messages WHERE ends_at > :now AND cancelled_at IS NULL
"""
ANYONE_WAITING_TTL_S = 2.0
_waiting: dict[int, tuple[float, frozenset]] = {}  # per engine: (valid until, device ids; -1: banners)
MARK_DELIVERED = """
UPDATE mgmt_actions SET state = 'delivered', delivered_at = :now WHERE device_id = :device_id AND state = 'pending'
"""


def _then_forget_waiting(change):
    """A change of actions or banners, after which this process's check-ins read who has something again."""
    @functools.wraps(change)
    def changed(*args, **kwargs):
        try:
            return change(*args, **kwargs)
        finally:
            forget_waiting()
    return changed


def forget_waiting() -> None:
    """An action or a banner was queued, answered or ended in this process: the next check-in reads
    who has something again (other processes see it within ``ANYONE_WAITING_TTL_S``)."""
    _waiting.clear()


class ActionError(ValueError):
    """A request refused as a whole; ``problems`` says why, in French."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Target:
    """Who a message is for: one kiosk, one commune, or (both None) the whole fleet."""
    asset_tag: str | None = None
    commune_insee: str | None = None


def _clean(text: str) -> str:
    return " ".join("".join(char if char.isprintable() else " " for char in text).split())


def check_message(text: str, ends_on: str, today: dt.date) -> tuple[str, dt.date]:
    """The banner's text and its last day, checked (French problems otherwise)."""
    problems = []
    text = _clean(text or "")
    if not text:
        problems.append("message : écrivez le texte du bandeau")
    elif len(text) > MESSAGE_MAX_CHARS:
        problems.append(f"message : {MESSAGE_MAX_CHARS} caractères au plus (il en a {len(text)})")
    try:
        last_day = dt.date.fromisoformat((ends_on or "").strip())
    except ValueError:
        problems.append("date de fin : une date au format AAAA-MM-JJ")
        last_day = today
    else:
        if last_day < today:
            problems.append("date de fin : elle est déjà passée")
        elif last_day > today + dt.timedelta(days=MAX_MESSAGE_DAYS):
            problems.append(f"date de fin : {MAX_MESSAGE_DAYS} jours au plus à partir d'aujourd'hui")
    if problems:
        raise ActionError(problems)
    return text, last_day


def end_of_day(day: dt.date) -> float:
    """The banner is shown through its last day, until midnight (server time)."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time()).astimezone().timestamp()


@_then_forget_waiting
def post_message(engine: Engine, target: Target, text: str, ends_on: str, by: str, now: float) -> int:
    text, last_day = check_message(text, ends_on, dt.date.fromtimestamp(now))
    with write_transaction(engine) as conn:
        if target.asset_tag is not None:
            if conn.execute(sa.select(devices.c.id).where(devices.c.asset_tag == target.asset_tag)).first() is None:
                raise ActionError([f"machine {target.asset_tag} inconnue"])
        elif target.commune_insee is not None:
            if conn.execute(sa.select(communes.c.insee).where(communes.c.insee == target.commune_insee)).first() is None:
                raise ActionError([f"commune {target.commune_insee} inconnue"])
        return conn.execute(messages.insert().values(
            text=text, asset_tag=target.asset_tag, commune_insee=None if target.asset_tag else target.commune_insee,
            ends_at=end_of_day(last_day), created_at=now, created_by=by[:64])).inserted_primary_key[0]


@_then_forget_waiting
def end_message(engine: Engine, message_id: int, now: float) -> bool:
    with write_transaction(engine) as conn:
        return conn.execute(messages.update().where(messages.c.id == message_id, messages.c.cancelled_at.is_(None))
                            .values(cancelled_at=now)).rowcount == 1


def active_messages(conn: Connection, now: float, target: Target | None = None) -> list:
    """Banners in force, newest first; with ``target``, only the ones posted for exactly that target."""
    query = sa.select(messages).where(messages.c.ends_at > now, messages.c.cancelled_at.is_(None))
    if target is not None:
        query = query.where(messages.c.asset_tag.is_(None) if target.asset_tag is None
                            else messages.c.asset_tag == target.asset_tag)
        if target.asset_tag is None:
            query = query.where(messages.c.commune_insee.is_(None) if target.commune_insee is None
                                else messages.c.commune_insee == target.commune_insee)
    return conn.execute(query.order_by(messages.c.id.desc()).limit(200)).all()


def messages_for_machine(conn: Connection, asset_tag: str, insee: str, now: float) -> list:
    """Every banner a machine shows: its own, its commune's and the fleet's."""
    return conn.execute(sa.select(messages).where(
        messages.c.ends_at > now, messages.c.cancelled_at.is_(None),
        sa.or_(messages.c.asset_tag == asset_tag,
               sa.and_(messages.c.asset_tag.is_(None),
                       sa.or_(messages.c.commune_insee.is_(None), messages.c.commune_insee == insee))))
        .order_by(messages.c.id.desc())).all()


@_then_forget_waiting
def queue_action(engine: Engine, asset_tag: str, kind: str, by: str, now: float) -> int:
    if kind not in ACTION_KINDS:
        raise ActionError([f"action inconnue : {kind[:40]}"])
    with write_transaction(engine) as conn:
        device_id = conn.execute(sa.select(devices.c.id).where(devices.c.asset_tag == asset_tag)).scalar()
        if device_id is None:
            raise ActionError([f"machine {asset_tag} inconnue"])
        waiting = conn.execute(sa.select(sa.func.count()).select_from(actions).where(
            actions.c.device_id == device_id, actions.c.kind == kind,
            actions.c.state.in_(OPEN_STATES + ("accepted",)))).scalar()
        if waiting >= MAX_WAITING_PER_KIND:
            raise ActionError([f"« {KIND_LABELS[kind]} » est déjà demandée à cette borne et attend sa réponse"])
        return conn.execute(actions.insert().values(device_id=device_id, kind=kind, state="pending", created_at=now,
                                                    created_by=by[:64])).inserted_primary_key[0]


@_then_forget_waiting
def cancel_action(engine: Engine, asset_tag: str, action_id: int, by: str, now: float) -> bool:
    """Cancel an action the kiosk has not acknowledged yet; False when it is too late (or unknown)."""
    with write_transaction(engine) as conn:
        device_id = sa.select(devices.c.id).where(devices.c.asset_tag == asset_tag).scalar_subquery()
        return conn.execute(actions.update().where(
            actions.c.id == action_id, actions.c.device_id == device_id, actions.c.state.in_(OPEN_STATES))
            .values(state="cancelled", cancelled_at=now, cancelled_by=by[:64])).rowcount == 1


def machine_actions(conn: Connection, asset_tag: str, limit: int = 20) -> list:
    """The machine's latest actions, newest first (without the diagnostic's text)."""
    return conn.execute(sa.select(*(column for column in actions.c if column.name != "diagnostic"),
                                  (actions.c.diagnostic.is_not(None)).label("has_diagnostic"))
                        .join_from(actions, devices, devices.c.id == actions.c.device_id)
                        .where(devices.c.asset_tag == asset_tag)
                        .order_by(actions.c.id.desc()).limit(limit)).all()


def diagnostic_of(engine: Engine, asset_tag: str, action_id: int) -> str | None:
    with read_transaction(engine) as conn:
        return conn.execute(sa.select(actions.c.diagnostic)
                            .join_from(actions, devices, devices.c.id == actions.c.device_id)
                            .where(actions.c.id == action_id, devices.c.asset_tag == asset_tag)).scalar()


def _anyone_waiting_on(dbapi_connection, dialect: str, cache_key: int, now: float) -> frozenset:
    cached = _waiting.get(cache_key)
    clock = time.monotonic()
    if cached is not None and cached[0] > clock:
        return cached[1]
    waiting = frozenset(int(row[0]) for row in
                        hot_sql.fetch_all_on(dbapi_connection, dialect, ANYONE_WAITING, {"now": now}))
    _waiting[cache_key] = (clock + ANYONE_WAITING_TTL_S, waiting)
    return waiting


def add_to_answer_on(dbapi_connection, dialect: str, device_id: int, answer: dict, now: float,
                     cache_key: int = 0) -> dict:
    """The check-in answer with ``actions`` and ``messages`` when the kiosk has any (optional keys: an
    older agent ignores them). Marks first deliveries; leaves the connection with no transaction.
    ``cache_key``: which store the process-wide "who has something" answer belongs to (the engine's id)."""
    waiting = _anyone_waiting_on(dbapi_connection, dialect, cache_key, now)
    if device_id not in waiting and -1 not in waiting:
        return answer
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(hot_sql.for_dialect(ANSWER_ITEMS, dialect), {"device_id": device_id, "now": now})
        rows = cursor.fetchall()
        open_actions = [(id_, body, state) for item, id_, body, state, _ends_at in rows if item == "a"]
        banners = [(id_, body, ends_at) for item, id_, body, _state, ends_at in rows if item == "m"]
        if any(state == "pending" for _id, _kind, state in open_actions):
            cursor.execute(hot_sql.for_dialect(MARK_DELIVERED, dialect), {"device_id": device_id, "now": now})
            dbapi_connection.commit()
    finally:
        cursor.close()
    dbapi_connection.rollback()
    if open_actions:
        answer = {**answer, "actions": [{"id": int(id_), "kind": kind} for id_, kind, _state in open_actions]}
    if banners:
        answer = {**answer, "messages": [{"id": int(id_), "text": text, "ends_at": float(ends_at)}
                                         for id_, text, ends_at in banners]}
    return answer


@_then_forget_waiting
def record_result(engine: Engine, device_id: int, action_id: int, state: str, detail: str | None,
                  diagnostic: str | None, now: float) -> str:
    """What the kiosk reports about one of its actions; the action's state afterwards. A report on an
    action that is already done or failed changes nothing (the agent may send it twice)."""
    with write_transaction(engine) as conn:
        row = conn.execute(sa.select(actions.c.state, actions.c.kind).where(
            actions.c.id == action_id, actions.c.device_id == device_id)).first()
        if row is None:
            raise LookupError(action_id)
        if row.state in FINAL_STATES + ("cancelled",) or (row.state == "accepted" and state == "accepted"):
            return row.state  # a cancelled action stays cancelled: the kiosk reads it here and does not run it
        values = {"state": state, "answered_at": now, "detail": (detail or "")[:DETAIL_MAX_CHARS] or None}
        if diagnostic is not None and row.kind == "diagnostic":
            values["diagnostic"] = diagnostic[:DIAGNOSTIC_MAX_CHARS]
        conn.execute(actions.update().where(actions.c.id == action_id).values(**values))
        return state
