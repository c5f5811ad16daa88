"""Machine status and health flags, as SQL expressions (so the overview filters, pages and counts in SQL).

Status is relative to the commune's connection profile (its expected check-in interval ``I``):
online when the last check-in is at most 2·I old, late up to 6·I (at least 2 h), offline up to 30 days,
missing beyond that or when it never checked in. A zone blanche that checks in once a day is therefore
"late" after two days, not "missing".

"Version du kiosque ancienne" means OLDER than the version the server expects (a machine already on a
newer version, a test machine, is not flagged): versions compare number by number (1.10.0 > 1.9.2).
"""

from __future__ import annotations

import re

import sqlalchemy as sa

from provisioning.fleet.store.staff_schema import machine_assets as assets
from provisioning.fleet.store.schema import communes, devices

STATUSES = ("online", "late", "offline", "missing")
STATUS_LABELS = {"online": "En ligne", "late": "En retard", "offline": "Hors ligne", "missing": "Disparue"}
# After a count (singular, plural): « 1 disparue », « 2 disparues ».
STATUS_WORDS = {"online": ("en ligne", "en ligne"), "late": ("en retard", "en retard"),
                "offline": ("hors ligne", "hors ligne"), "missing": ("disparue", "disparues")}
MISSING_AFTER_S = 30 * 86400
LATE_FLOOR_S = 2 * 3600

FLAGS = ("disk", "memory", "temperature", "crashes", "outdated")
FLAG_LABELS = {
    "disk": "Disque plein (≥ 90 %)", "memory": "Mémoire saturée", "temperature": "Température élevée",
    "crashes": "Plantages répétés", "outdated": "Version du kiosque ancienne",
}
DISK_FULL_PERCENT = 90
MEMORY_PRESSURE_PERCENT = 90
HOT_CELSIUS = 80
REPEATED_CRASHES_7D = 3


def status_expression(now: float):
    last, interval = devices.c.last_seen_at, communes.c.expected_interval_s
    age = sa.literal(now) - last
    late_limit = sa.case((interval * 6 > LATE_FLOOR_S, interval * 6), else_=LATE_FLOOR_S)
    return sa.case(
        (last.is_(None), "missing"),
        (age <= interval * 2, "online"),
        (age <= late_limit, "late"),
        (age <= MISSING_AFTER_S, "offline"),
        else_="missing")


def version_key(version: str) -> tuple:
    """« 1.10.0 » → (1, 10, 0): the numbers of a version, compared in order (text parts after them)."""
    parts = re.findall(r"\d+|[A-Za-z]+", version)
    return tuple((0, int(part), "") if part.isdigit() else (-1, 0, part) for part in parts)


def is_older(version: str | None, expected: str) -> bool:
    return version is not None and version != expected and version_key(version) < version_key(expected)


class ExpectedVersion(str):
    """The version the server expects, carrying the versions present in the fleet that are older than it
    (:func:`expected_version`), so the SQL flag is exactly "older", like :func:`flags_of`."""

    older: tuple[str, ...] = ()


def expected_version(conn: sa.Connection, expected: str) -> ExpectedVersion:
    """The expected version with the fleet's older versions: the few distinct versions read by jumping
    from one to the next in their index (a recursive query), not a pass over every machine."""
    version = devices.c.kiosk_version
    present = sa.select(sa.func.min(version).label("version")).where(version.is_not(None)).cte("present", recursive=True)
    following = sa.select(version).where(version > present.c.version).order_by(version).limit(1).scalar_subquery()
    present = present.union_all(sa.select(following).where(present.c.version.is_not(None)))
    present = conn.execute(sa.select(present.c.version).where(present.c.version.is_not(None))).scalars()
    value = ExpectedVersion(expected)
    value.older = tuple(sorted(version for version in present if is_older(version, expected)))
    return value


def outdated_condition(current_version: str) -> sa.ColumnElement[bool]:
    older = getattr(current_version, "older", None)
    if older is not None and isinstance(current_version, ExpectedVersion):
        return devices.c.kiosk_version.in_(older) if older else sa.false()
    # Without the fleet's versions at hand: text order, right for versions of the same shape.
    return sa.and_(devices.c.kiosk_version.is_not(None), devices.c.kiosk_version < current_version)


def flag_conditions(current_version: str) -> dict[str, sa.ColumnElement[bool]]:
    return {
        "disk": devices.c.disk_used_percent >= DISK_FULL_PERCENT,
        "memory": devices.c.memory_used_percent >= MEMORY_PRESSURE_PERCENT,
        "temperature": devices.c.temperature_max_c >= HOT_CELSIUS,
        "crashes": assets.c.crashes_7d >= REPEATED_CRASHES_7D,
        "outdated": outdated_condition(current_version),
    }


def flags_of(row, current_version: str) -> list[str]:
    """The same flags, computed in Python for one row already fetched."""
    found = []
    if (row.disk_used_percent or 0) >= DISK_FULL_PERCENT:
        found.append("disk")
    if (row.memory_used_percent or 0) >= MEMORY_PRESSURE_PERCENT:
        found.append("memory")
    if (row.temperature_max_c or -100) >= HOT_CELSIUS:
        found.append("temperature")
    if (row.crashes_7d or 0) >= REPEATED_CRASHES_7D:
        found.append("crashes")
    if is_older(row.kiosk_version, str(current_version)):
        found.append("outdated")
    return found
