"""The residents' call-back requests on the staff side (issue 13 point 2): the inbox, following a
request (who took it, a note, new → in progress → done), the staff's e-mail ("1 nouvelle demande à
<commune>", nothing personal) and the deletion of requests ``callback_retention_days`` after done.

The notifications and the deletion run from ``fleet suivi`` (followup_cli.py). A notification goes to the
staff who chose e-mail alerts (page « Alertes »); a request is marked notified only once the mail is sent,
so a mail server down loses nothing.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import sqlalchemy as sa

from kiosk.protocol.callback import ASAP, SUBJECTS
from kiosk.text.french import DAY_KEYS, day_name, time_range
from provisioning.fleet.dashboard.alerts import Mail, send
from provisioning.fleet.store.followup_schema import alert_subscriptions
from provisioning.fleet.store.help_schema import NOTE_MAX_CHARS, STATUSES, callback_requests
from provisioning.fleet.store.schema import communes
from provisioning.fleet.store.staff_schema import users

STATUS_LABELS = {"new": "Nouvelles", "in_progress": "En cours", "done": "Traitées"}
STATUS_ONE = {"new": "Nouvelle", "in_progress": "En cours", "done": "Traitée"}


def slot_label(slot: str) -> str:
    """« Dès que possible » or « Lundi, de 9 h à 12 h »."""
    if slot == ASAP:
        return "Dès que possible"
    day, _, hours = slot.partition(" ")
    return f"{day_name(DAY_KEYS.index(day)).capitalize()}, {time_range(hours)}" if day in DAY_KEYS else slot


def counts(conn: sa.Connection) -> dict[str, int]:
    rows = conn.execute(sa.select(callback_requests.c.status, sa.func.count()).group_by(callback_requests.c.status))
    found = dict(rows.all())
    return {status: int(found.get(status, 0)) for status in STATUSES}


def inbox(conn: sa.Connection, status: str, limit: int = 200) -> list[sa.Row]:
    """The requests of one status with their commune's name, oldest first (done: newest first)."""
    order = callback_requests.c.received_at.desc() if status == "done" else callback_requests.c.received_at
    return conn.execute(
        sa.select(callback_requests, communes.c.name.label("commune_name"))
        .join(communes, communes.c.insee == callback_requests.c.commune_insee, isouter=True)
        .where(callback_requests.c.status == status).order_by(order, callback_requests.c.id).limit(limit)).all()


def update(conn: sa.Connection, request_pk: int, status: str, note: str, username: str, now: float) -> bool:
    """Change a request's status and note; whoever first moves it on from "new" has taken it."""
    current = conn.execute(sa.select(callback_requests.c.status, callback_requests.c.taken_by)
                           .where(callback_requests.c.id == request_pk)).first()
    if current is None or status not in STATUSES:
        return False
    values = {"status": status, "note": note.strip()[:NOTE_MAX_CHARS] or None, "updated_at": now,
              "done_at": now if status == "done" else None}
    if status != "new" and current.taken_by is None:
        values["taken_by"] = username
    if status == "new":
        values["taken_by"] = None
    if status == "done" and current.status == "done":
        del values["done_at"]  # a note added later does not push the deletion back
    conn.execute(callback_requests.update().where(callback_requests.c.id == request_pk).values(**values))
    return True


def notification_mails(conn: sa.Connection) -> tuple[list[Mail], list[int]]:
    """The mails for the requests not yet announced (one per commune and recipient), and their ids."""
    rows = conn.execute(
        sa.select(callback_requests.c.id, communes.c.name)
        .join(communes, communes.c.insee == callback_requests.c.commune_insee, isouter=True)
        .where(callback_requests.c.notified_at.is_(None))).all()
    if not rows:
        return [], []
    per_commune = Counter(name or "une commune" for _id, name in rows)
    recipients = conn.execute(
        sa.select(alert_subscriptions.c.email).join(users, users.c.id == alert_subscriptions.c.user_id)
        .where(users.c.role.in_(("admin", "staff"))).order_by(alert_subscriptions.c.email)).scalars().all()
    mails = []
    for commune, count in sorted(per_commune.items()):
        sentence = (f"1 nouvelle demande à {commune}" if count == 1
                    else f"{count} nouvelles demandes à {commune}")
        mails += [Mail(email, sentence, sentence + ".\n\n— Page « Demandes de rappel » du suivi du parc "
                                                   "(message automatique).") for email in recipients]
    return mails, [row.id for row in rows]


def notify(engine: sa.Engine, settings, now: float) -> int:
    """Send the staff's notifications; returns mails sent. Marked notified only once sent."""
    from provisioning.fleet.store.engine import write_transaction
    if not settings.smtp_host:
        return 0
    with write_transaction(engine) as conn:
        mails, ids = notification_mails(conn)
        if not mails:
            return 0
        sent = send(mails, settings)
        conn.execute(callback_requests.update().where(callback_requests.c.id.in_(ids)).values(notified_at=now))
    return sent


def purge_done(conn: sa.Connection, now: float, retention_days: int) -> int:
    """Delete the requests done more than ``retention_days`` ago, with their personal data."""
    return conn.execute(callback_requests.delete().where(
        callback_requests.c.status == "done",
        callback_requests.c.done_at < now - retention_days * 86400)).rowcount


@dataclass(frozen=True)
class Labels:
    statuses: dict
    status_one: dict
    subjects: dict


LABELS = Labels(STATUS_LABELS, STATUS_ONE, SUBJECTS)
