"""The staff side's data: the dashboard's read model, kept up to date inside the ingest transaction, and
what staff record (a machine's move to another commune, a commune's town-hall point).

:func:`apply_ingested` is called by :func:`provisioning.fleet.store.ingest.ingest` with what that check-in has
*newly* stored (a replayed record never reaches it), so the figures stay exact (the newest health sample
is kept on the ``devices`` row by the ingest itself):

* usage counters are added to the machine's commune's daily and monthly counters, and to the fleet's;
* crash recoveries over the last 7 days are recounted from the store's per-device counters.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Mapping

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from provisioning.fleet.store.engine import write_transaction
from provisioning.fleet.store.hot_sql import for_dialect
from provisioning.fleet.store.schema import devices
from provisioning.fleet.store.staff_schema import (
    commune_moves, commune_places, usage_commune_daily, usage_commune_monthly, usage_fleet_daily,
)

CRASH_WINDOW_DAYS = 7


def utc_day(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).date().isoformat()


def dialect_insert(conn: sa.Connection, table: sa.Table):
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(table)


# Hand-written SQL on the driver's cursor, like the ingest's own hot path (the same text on SQLite and
# PostgreSQL): this runs inside every check-in's write transaction.
ADD_FLEET_USAGE = """
INSERT INTO dash_usage_fleet_daily (metric, day, key, count) VALUES (:metric, :day, :key, :count)
ON CONFLICT (metric, day, key) DO UPDATE SET count = dash_usage_fleet_daily.count + excluded.count
"""
ADD_COMMUNE_USAGE = """
INSERT INTO dash_usage_commune_daily (metric, day, commune_insee, key, count)
VALUES (:metric, :day, :commune_insee, :key, :count)
ON CONFLICT (metric, day, commune_insee, key) DO UPDATE SET count = dash_usage_commune_daily.count + excluded.count
"""
ADD_COMMUNE_MONTHLY_USAGE = """
INSERT INTO dash_usage_commune_monthly (metric, month, commune_insee, key, count)
VALUES (:metric, :month, :commune_insee, :key, :count)
ON CONFLICT (metric, month, commune_insee, key) DO UPDATE SET count = dash_usage_commune_monthly.count + excluded.count
"""
ENSURE_ASSET = """
INSERT INTO dash_machine_assets (asset_tag, lifecycle_state, crashes_7d) VALUES (:asset_tag, 'deployed', 0)
ON CONFLICT (asset_tag) DO NOTHING
"""
RECOUNT_CRASHES = """
UPDATE dash_machine_assets SET crashes_7d = (
    SELECT COALESCE(SUM(count), 0) FROM usage_daily
    WHERE device_id = :device_id AND metric = 'crash_recovered' AND day > :since)
WHERE asset_tag = :asset_tag
"""


def apply_ingested(cursor, dialect: str, device_id: int, asset_tag: str, commune_insee: str,
                   counters: Mapping[tuple[str, str, str], int], now: float) -> None:
    """On the ingest transaction's driver cursor: ``counters`` are the newly stored usage counts by
    (day, metric, key)."""
    if not counters:
        return
    rows = [{"metric": metric, "day": day, "key": key, "count": count}
            for (day, metric, key), count in sorted(counters.items())]
    cursor.executemany(for_dialect(ADD_FLEET_USAGE, dialect), rows)
    cursor.executemany(for_dialect(ADD_COMMUNE_USAGE, dialect), [dict(row, commune_insee=commune_insee) for row in rows])
    monthly: dict[tuple[str, str, str], int] = {}
    for (day, metric, key), count in counters.items():
        monthly[(metric, day[:7], key)] = monthly.get((metric, day[:7], key), 0) + count
    cursor.executemany(for_dialect(ADD_COMMUNE_MONTHLY_USAGE, dialect), [
        {"metric": metric, "month": month, "commune_insee": commune_insee, "key": key, "count": count}
        for (metric, month, key), count in sorted(monthly.items())])
    if any(metric == "crash_recovered" for _, metric, _ in counters):
        cursor.execute(for_dialect(ENSURE_ASSET, dialect), {"asset_tag": asset_tag})
        cursor.execute(for_dialect(RECOUNT_CRASHES, dialect), {
            "asset_tag": asset_tag, "device_id": device_id, "since": utc_day(now - CRASH_WINDOW_DAYS * 86400)})


def move_machine(conn: sa.Connection, asset_tag: str, to_insee: str, at: float, by_user: str) -> None:
    """Attach a machine to another commune (its past usage stays with the commune where it happened)."""
    current = conn.execute(sa.select(devices.c.commune_insee).where(devices.c.asset_tag == asset_tag)).scalar_one()
    if current == to_insee:
        return
    conn.execute(devices.update().where(devices.c.asset_tag == asset_tag).values(commune_insee=to_insee))
    conn.execute(commune_moves.insert().values(
        asset_tag=asset_tag, from_insee=current, to_insee=to_insee, at=at, by_user=by_user))


def save_place(engine: sa.Engine, insee: str, values: dict) -> None:
    """Record a commune's town-hall point (address, opening hours...), for the mediation-places export."""
    values = dict(values, updated_at=time.time())
    with write_transaction(engine) as conn:
        statement = dialect_insert(conn, commune_places).values(insee=insee, **values)
        conn.execute(statement.on_conflict_do_update(index_elements=["insee"], set_=values))


def prune_usage(conn: sa.Connection, oldest_day: str) -> dict[str, int]:
    """Apply the usage retention (CNIL: at most 25 months) to the dashboard's counters too. A month's
    counters go as soon as one of its days is beyond retention (never kept longer than the daily ones)."""
    removed = {table.name: conn.execute(table.delete().where(table.c.day < oldest_day)).rowcount
               for table in (usage_commune_daily, usage_fleet_daily)}
    month = usage_commune_monthly.c.month
    partly_beyond = month <= oldest_day[:7] if oldest_day[8:] != "01" else month < oldest_day[:7]
    removed[usage_commune_monthly.name] = conn.execute(usage_commune_monthly.delete().where(partly_beyond)).rowcount
    return removed
