"""E-mail alerts for the staff (issue 16 point 2), sent by ``fleet suivi`` (a timer, every few minutes).

Each staff member chooses the alerts they want (the severities of "À traiter d'abord") and an address.
An alert is sent once when a machine enters the state and once when it recovers: the alerts in force are
kept in ``dash_alert_states`` and each run compares them with the fleet as it is now. When many fire for
one person (more than :data:`DIGEST_AFTER` in a run, or a digest already waiting), they are queued and
sent together, at most once a day, as a digest. Mail goes through the standard library's SMTP client
to the server named in the settings (``smtp_host``...); no setting, no mail (the alerts wait).
"""

from __future__ import annotations

import smtplib
import ssl
import time
from collections import defaultdict
from dataclasses import dataclass
from email.message import EmailMessage

import sqlalchemy as sa

from provisioning.fleet.dashboard import fleet_queries
from provisioning.fleet.dashboard.severity import SEVERITY, severity_of
from provisioning.fleet.dashboard.status import expected_version, flags_of
from provisioning.fleet.store.followup_schema import alert_queue, alert_states, alert_subscriptions

ALERT_KINDS = ("lost", "offline", "crash_loop", "disk_full", "outdated", "late")
DIGEST_AFTER = 5
DIGEST_EVERY_S = 86400
ALL_MACHINES = 10_000_000


@dataclass(frozen=True)
class Event:
    asset_tag: str
    commune: str
    kind: str
    event: str  # 'entered' or 'recovered'

    def line(self) -> str:
        label = SEVERITY[self.kind].label.lower()
        if self.event == "entered":
            return f"{self.asset_tag} ({self.commune}) : {label}. {SEVERITY[self.kind].todo}"
        return f"{self.asset_tag} ({self.commune}) : n'est plus « {label} »."


def current_alerts(conn: sa.Connection, now: float, expected: str) -> dict[tuple[str, str], str]:
    """(asset_tag, kind) → commune name, for every installed machine in an alert state now."""
    version = expected_version(conn, expected)
    result = fleet_queries.overview(conn, fleet_queries.OverviewFilters(), now, version, None,
                                    page_size=ALL_MACHINES)
    found = {}
    for row in result["rows"]:
        kind = severity_of(row, flags_of(row, version))
        if kind in ALERT_KINDS:
            found[(row.asset_tag, kind)] = row.commune_name
    return found


def changes(conn: sa.Connection, now: float, expected: str) -> list[Event]:
    """Compare the fleet with the alerts in force, record the new state, return what changed."""
    current = current_alerts(conn, now, expected)
    stored = {(tag, kind) for tag, kind in conn.execute(sa.select(alert_states.c.asset_tag, alert_states.c.kind))}
    entered = sorted(set(current) - stored)
    recovered = sorted(stored - set(current))
    if entered:
        conn.execute(alert_states.insert(), [{"asset_tag": t, "kind": k, "entered_at": now} for t, k in entered])
    for tag, kind in recovered:
        conn.execute(alert_states.delete().where(alert_states.c.asset_tag == tag, alert_states.c.kind == kind))
    return ([Event(t, current[(t, k)], k, "entered") for t, k in entered]
            + [Event(t, "", k, "recovered") for t, k in recovered])


def subscriptions(conn: sa.Connection) -> list[sa.Row]:
    return conn.execute(sa.select(alert_subscriptions)).all()


def save_subscription(conn: sa.Connection, user_id: int, email: str, kinds: list[str], now: float) -> None:
    conn.execute(alert_subscriptions.delete().where(alert_subscriptions.c.user_id == user_id))
    if email and kinds:
        conn.execute(alert_subscriptions.insert().values(
            user_id=user_id, email=email, kinds=",".join(k for k in kinds if k in ALERT_KINDS), updated_at=now))


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    body: str


def plan(conn: sa.Connection, events: list[Event], now: float) -> list[Mail]:
    """The mails to send for these events: one per event, or the person's events queued for a daily
    digest when there are many (the digest itself is sent once a day)."""
    mails = []
    for subscription in subscriptions(conn):
        wanted = set(subscription.kinds.split(","))
        mine = [event for event in events if event.kind in wanted]
        waiting = conn.execute(sa.select(sa.func.count()).where(
            alert_queue.c.user_id == subscription.user_id)).scalar_one()
        if mine and len(mine) <= DIGEST_AFTER and not waiting:
            mails += [Mail(subscription.email, _subject(event), event.line() + "\n\n" + SIGNATURE) for event in mine]
            continue
        if mine:
            conn.execute(alert_queue.insert(), [{"user_id": subscription.user_id, "asset_tag": e.asset_tag,
                                                 "kind": e.kind, "event": e.event, "at": now} for e in mine])
        last = subscription.last_digest_at
        if (mine or waiting) and (last is None or now - last >= DIGEST_EVERY_S):
            mails.append(_digest(conn, subscription, now))
    return mails


SIGNATURE = "— Le suivi du parc des points numériques (message automatique ; choisir ses alertes : page « Alertes »)."


def _subject(event: Event) -> str:
    label = SEVERITY[event.kind].label.lower()
    return (f"Alerte : {event.asset_tag} {label}" if event.event == "entered"
            else f"Rétabli : {event.asset_tag} n'est plus « {label} »")


def _digest(conn: sa.Connection, subscription, now: float) -> Mail:
    rows = conn.execute(sa.select(alert_queue).where(alert_queue.c.user_id == subscription.user_id)
                        .order_by(alert_queue.c.id)).all()
    conn.execute(alert_queue.delete().where(alert_queue.c.user_id == subscription.user_id))
    conn.execute(alert_subscriptions.update().where(alert_subscriptions.c.user_id == subscription.user_id)
                 .values(last_digest_at=now))
    by_kind: dict[tuple[str, str], list[str]] = defaultdict(list)
    for row in rows:
        by_kind[(row.event, row.kind)].append(row.asset_tag)
    lines = []
    for (event, kind), tags in sorted(by_kind.items()):
        label = SEVERITY[kind].label.lower()
        head = f"Entrées dans l'état « {label} »" if event == "entered" else f"Sorties de l'état « {label} »"
        lines.append(f"{head} ({len(tags)}) : {', '.join(tags)}")
        if event == "entered":
            lines.append(f"  Que faire : {SEVERITY[kind].todo}")
    count = len(rows)
    return Mail(subscription.email, f"Résumé des alertes : {count} changement{'s' if count > 1 else ''}",
                "\n".join(lines) + "\n\n" + SIGNATURE)


def send(mails: list[Mail], settings) -> int:
    """Send through the SMTP server of the settings; returns how many were sent (0 when none is set)."""
    if not mails or not settings.smtp_host:
        return 0
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as client:
        if settings.smtp_starttls:
            client.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            client.login(settings.smtp_user, settings.smtp_password)
        for mail in mails:
            message = EmailMessage()
            message["From"], message["To"], message["Subject"] = settings.smtp_from, mail.to, mail.subject
            message.set_content(mail.body)
            client.send_message(message)
    return len(mails)


def run(engine: sa.Engine, settings, now: float | None = None) -> tuple[int, int]:
    """One alert run: (changes found, mails sent). The state is committed only once the mails are sent,
    so a failing SMTP server means the same alerts are tried again next run, not lost."""
    from provisioning.fleet.store.engine import write_transaction
    now = time.time() if now is None else now
    with write_transaction(engine) as conn:
        events = changes(conn, now, settings.expected_kiosk_version())
        mails = plan(conn, events, now)
        sent = send(mails, settings)
    return len(events), sent
