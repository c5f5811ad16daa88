"""Queries of the staff's follow-up: town halls' contacts for a page of machines, notes on a machine, and
the machines' daily status (recorded by ``fleet suivi``, read as a 90-day timeline)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from provisioning.fleet.dashboard.status import status_expression
from provisioning.fleet.store.readmodel import dialect_insert
from provisioning.fleet.store.followup_schema import (AVAILABLE_STATUSES as AVAILABLE, DAILY_STATUSES,
                                                      availability_monthly, machine_notes, machine_status_days)
from provisioning.fleet.store.schema import communes, devices
from provisioning.fleet.store.staff_schema import commune_places

STATUS_RANK = {status: rank for rank, status in enumerate(DAILY_STATUSES)}


def commune_contacts(conn: sa.Connection, insees) -> dict[str, sa.Row]:
    """Phone, e-mail and opening hours of the given communes' town halls (one statement)."""
    wanted = sorted(set(insees))
    if not wanted:
        return {}
    rows = conn.execute(sa.select(commune_places.c.insee, commune_places.c.phone, commune_places.c.email,
                                  commune_places.c.opening_hours).where(commune_places.c.insee.in_(wanted)))
    return {row.insee: row for row in rows}


def note(conn: sa.Connection, asset_tag: str) -> sa.Row | None:
    return conn.execute(sa.select(machine_notes).where(machine_notes.c.asset_tag == asset_tag)).first()


def save_note(conn: sa.Connection, asset_tag: str, text: str, now: float, username: str) -> None:
    """Write (or, for an empty text, remove) the machine's note."""
    if not text:
        conn.execute(machine_notes.delete().where(machine_notes.c.asset_tag == asset_tag))
        return
    values = {"text": text, "updated_at": now, "updated_by": username}
    statement = dialect_insert(conn, machine_notes).values(asset_tag=asset_tag, **values)
    conn.execute(statement.on_conflict_do_update(index_elements=["asset_tag"], set_=values))


def status_days(conn: sa.Connection, asset_tag: str, first_day: str) -> dict[str, str]:
    """Day → recorded status of one machine since ``first_day`` (ISO)."""
    return dict(conn.execute(sa.select(machine_status_days.c.day, machine_status_days.c.status).where(
        machine_status_days.c.asset_tag == asset_tag, machine_status_days.c.day >= first_day)).all())


def record_statuses(conn: sa.Connection, now: float, batch: int = 5000) -> int:
    """Record every machine's current status for today, keeping the worst of the day. Returns how many
    machines were recorded. Run by ``fleet suivi`` (a timer, every few minutes)."""
    today = dt.datetime.fromtimestamp(now, dt.timezone.utc).date().isoformat()
    current = conn.execute(sa.select(devices.c.asset_tag, devices.c.commune_insee, status_expression(now).label("status"))
                           .select_from(devices.join(communes, communes.c.insee == devices.c.commune_insee))).all()
    recorded = dict(conn.execute(sa.select(machine_status_days.c.asset_tag, machine_status_days.c.status)
                                 .where(machine_status_days.c.day == today)).all())
    changes = []
    monthly: dict[str, list[int]] = {}  # commune → [available, recorded] machine-days added
    for tag, insee, status in current:
        before = recorded.get(tag)
        if before is not None and STATUS_RANK[status] <= STATUS_RANK[before]:
            continue
        changes.append({"asset_tag": tag, "day": today, "status": status})
        delta = monthly.setdefault(insee, [0, 0])
        delta[0] += (status in AVAILABLE) - (before in AVAILABLE)
        delta[1] += before is None
    for start in range(0, len(changes), batch):
        chunk = changes[start:start + batch]
        statement = dialect_insert(conn, machine_status_days)
        conn.execute(statement.on_conflict_do_update(
            index_elements=["asset_tag", "day"], set_={"status": statement.excluded.status}), chunk)
    sums = [{"month": today[:7], "commune_insee": insee, "available": up, "recorded": days}
            for insee, (up, days) in sorted(monthly.items()) if up or days]
    for start in range(0, len(sums), batch):
        statement = dialect_insert(conn, availability_monthly)
        conn.execute(statement.on_conflict_do_update(index_elements=["month", "commune_insee"], set_={
            "available": availability_monthly.c.available + statement.excluded.available,
            "recorded": availability_monthly.c.recorded + statement.excluded.recorded}), sums[start:start + batch])
    return len(current)


def prune_statuses(conn: sa.Connection, oldest_day: str) -> int:
    """Remove the daily statuses before ``oldest_day`` and the monthly sums of the months wholly before it."""
    conn.execute(availability_monthly.delete().where(availability_monthly.c.month < oldest_day[:7]))
    return conn.execute(machine_status_days.delete().where(machine_status_days.c.day < oldest_day)).rowcount
