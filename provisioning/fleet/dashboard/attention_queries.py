"""The overview's order, "À traiter d'abord": each machine's severity, most urgent first, and since when.

Severities, in order: ``lost`` (status "missing": never seen, or silent 30 days and beyond its profile),
``offline`` (silent beyond its commune's profile), ``crash_loop`` (repeated crash recoveries over 7 days),
``disk_full``, ``outdated`` (a kiosk version OLDER than the expected one; a newer one is no alert),
``late``, ``ok``. The time-based ones follow ``dashboard/status.py``; ``since`` is the moment the machine
entered its state (lost, offline, late: when the deadline passed; never seen: its enrolment), None for
the states a check-in reports (the store keeps no history of them).

At 100,000 machines nothing here reads the whole fleet: each severity is a group reached through its
own index (``devices.late_at`` kept by triggers, partial indexes of the flagged machines, see migration
0007); a page reads the groups in order and stops when it is full, and the counts are index ranges over
the machines concerned, minus the few that are not deployed.
"""

from __future__ import annotations

import datetime as dt
import types

import sqlalchemy as sa
from packaging.version import InvalidVersion, Version

from provisioning.fleet.dashboard.status import LATE_FLOOR_S, MISSING_AFTER_S, STATUSES, status_expression
from provisioning.fleet.store.schema import DISK_FULL_PERCENT, HOT_CELSIUS, MEMORY_FULL_PERCENT, communes, devices
from provisioning.fleet.store.staff_schema import REPEATED_CRASHES_7D
from provisioning.fleet.store.staff_schema import machine_assets as assets

SEVERITIES = ("lost", "offline", "crash_loop", "disk_full", "outdated", "late", "ok")
FLAG_NAMES = ("disk", "memory", "temperature", "crashes", "outdated")

# Literal SQL (not bound parameters): the planners use a partial index only when the query's own text
# implies the index's condition.
DISK_FULL = sa.text(f"devices.disk_used_percent >= {DISK_FULL_PERCENT}")
MEMORY_FULL = sa.text(f"devices.memory_used_percent >= {MEMORY_FULL_PERCENT}")
HOT = sa.text(f"devices.temperature_max_c >= {HOT_CELSIUS}")
CRASHING = sa.text(f"dash_machine_assets.crashes_7d >= {REPEATED_CRASHES_7D}")
NOT_DEPLOYED = sa.text("dash_machine_assets.lifecycle_state <> 'deployed'")
NEVER_SEEN = sa.text("devices.last_seen_at IS NULL")


def older_versions(conn: sa.Connection, expected: str) -> list[str]:
    """The kiosk versions in the fleet older than ``expected`` (PEP 440 order, so "1.10" is newer than
    "1.9"); a version that does not parse is not called older. The distinct versions are read by
    skipping along the version index (a handful of lookups, not one per machine)."""
    try:
        target = Version(expected)
    except InvalidVersion:
        return []
    found = conn.exec_driver_sql(
        "WITH RECURSIVE v(version) AS ("
        " SELECT MIN(kiosk_version) FROM devices"
        " UNION ALL SELECT (SELECT MIN(kiosk_version) FROM devices WHERE kiosk_version > v.version)"
        " FROM v WHERE v.version IS NOT NULL)"
        " SELECT version FROM v WHERE version IS NOT NULL").scalars().all()
    older = []
    for version in found:
        try:
            if Version(version) < target:
                older.append(version)
        except InvalidVersion:
            continue
    return older


class Rules:
    """The SQL expressions of one request (one ``now``, one list of older versions)."""

    def __init__(self, now: float, older: list[str]) -> None:
        self.now, self.older = now, older
        self.status = status_expression(now)
        self.crashing = sa.func.coalesce(assets.c.crashes_7d, 0) >= REPEATED_CRASHES_7D
        self.disk_full = sa.func.coalesce(devices.c.disk_used_percent, 0) >= DISK_FULL_PERCENT
        self.outdated = devices.c.kiosk_version.in_(older) if older else sa.false()
        on_time_or_late = self.status.in_(("online", "late"))
        self.groups = {  # each severity: (its exact condition, the index condition that reaches it)
            "lost": (self.status == "missing", sa.or_(NEVER_SEEN, devices.c.late_at <= now)),
            "offline": (self.status == "offline", devices.c.late_at <= now),
            "crash_loop": (sa.and_(on_time_or_late, self.crashing), CRASHING),
            "disk_full": (sa.and_(on_time_or_late, ~self.crashing, self.disk_full), DISK_FULL),
            "outdated": (sa.and_(on_time_or_late, ~self.crashing, ~self.disk_full, self.outdated),
                         self.outdated),
            "late": (sa.and_(self.status == "late", ~self.crashing, ~self.disk_full, ~self.outdated),
                     devices.c.late_at <= now),
            "ok": (sa.and_(self.status == "online", ~self.crashing, ~self.disk_full, ~self.outdated), None),
        }
        self.severity = sa.case(
            *((condition, name) for name, (condition, _index) in self.groups.items() if name != "ok"), else_="ok")
        self.rank = sa.case(
            *((condition, rank) for rank, (condition, _index) in enumerate(self.groups.values()) if rank < 6),
            else_=6)


def since(row) -> dt.datetime | None:
    """When the machine entered its (time-based) state; None for the others."""
    interval, last = row.expected_interval_s, row.last_seen_at
    late_limit = max(interval * 6, LATE_FLOOR_S)
    if row.severity == "lost":
        moment = row.enrolled_at if last is None else last + max(late_limit, MISSING_AFTER_S)
    elif row.severity == "offline":
        moment = last + late_limit
    elif row.severity == "late":
        moment = last + interval * 2
    else:
        return None
    return dt.datetime.fromtimestamp(moment, dt.timezone.utc)


def with_since(rows) -> list:
    """Rows as plain objects carrying ``severity`` and ``since`` (templates read them as attributes)."""
    return [types.SimpleNamespace(**row._mapping, since=since(row)) for row in rows]


def group_rows(conn: sa.Connection, listing, rules: Rules, deployed_only: bool, limit: int, offset: int) -> list:
    """The page's rows, reading the severity groups in order until the page is full. A group is counted
    only when the page starts beyond it."""
    rows: list = []
    for name, (condition, index_condition) in rules.groups.items():
        if limit <= 0:
            break
        group = listing.where(condition)
        if index_condition is not None:
            group = group.where(index_condition)
        if deployed_only:
            group = group.where(sa.func.coalesce(assets.c.lifecycle_state, "deployed") == "deployed")
        if offset:
            size = conn.execute(sa.select(sa.func.count()).select_from(group.subquery())).scalar_one()
            if size <= offset:
                offset -= size
                continue
        found = conn.execute(group.order_by(communes.c.name, devices.c.asset_tag).limit(limit).offset(offset)).all()
        offset = 0
        limit -= len(found)
        rows.extend(found)
    return rows


def fleet_counts(conn: sa.Connection, rules: Rules, deployed_only: bool) -> tuple[dict, dict]:
    """Counts per status and per flag of the whole fleet (or of its deployed machines), each from the
    index of the machines concerned."""
    joined = devices.join(communes, communes.c.insee == devices.c.commune_insee)

    def count(source, *conditions) -> int:
        return conn.execute(sa.select(sa.func.count()).select_from(source).where(*conditions)).scalar_one()

    total = count(devices)
    statuses = {name: 0 for name in STATUSES}
    statuses["missing"] = count(devices, NEVER_SEEN)
    for status, number in conn.execute(sa.select(rules.status, sa.func.count()).select_from(joined).where(
            devices.c.late_at <= rules.now).group_by(rules.status)):
        statuses[status] += number
    statuses["online"] += total - sum(statuses.values())
    flags = {
        "disk": count(devices, DISK_FULL), "memory": count(devices, MEMORY_FULL), "temperature": count(devices, HOT),
        "crashes": count(devices.join(assets, assets.c.asset_tag == devices.c.asset_tag), CRASHING),
        "outdated": count(devices, rules.outdated) if rules.older else 0,
    }
    if deployed_only:  # minus the few machines that are enrolled but not deployed (returned, recycled...)
        aside = sa.select(
            rules.status.label("status"), (devices.c.disk_used_percent >= DISK_FULL_PERCENT).label("disk"),
            (devices.c.memory_used_percent >= MEMORY_FULL_PERCENT).label("memory"),
            (devices.c.temperature_max_c >= HOT_CELSIUS).label("temperature"),
            (assets.c.crashes_7d >= REPEATED_CRASHES_7D).label("crashes"), rules.outdated.label("outdated"),
        ).select_from(joined.join(assets, assets.c.asset_tag == devices.c.asset_tag)).where(NOT_DEPLOYED)
        for row in conn.execute(aside):
            statuses[row.status] -= 1
            for name in FLAG_NAMES:
                flags[name] -= 1 if getattr(row, name) else 0
    return statuses, flags
