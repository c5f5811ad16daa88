"""The staff side's data: the dashboard's read model, kept up to date inside the ingest transaction, and
what staff record (a machine's move to another commune, a commune's town-hall point).

:func:`apply_ingested` is called by :func:`provisioning.fleet.store.ingest.ingest` with what that check-in has
*newly* stored (a replayed record never reaches it), so the figures stay exact (the newest health sample
is kept on the ``devices`` row by the ingest itself):

* usage counters go to the inbox (``dash_usage_inbox``, one row per check-in), which :func:`fold_usage` adds
  to the machine's commune's daily and monthly counters and to the fleet's, in batches: the check-in
  workers about once a second (:class:`FoldSchedule`), and every reader of those counters before it reads
  (:func:`fold_usage`), so what a page shows is exact. Updating the three tables inside every check-in's
  transaction was about fifteen row updates, a seventh of a check-in's cost; a batch updates each
  counter once, whatever the number of check-ins it folds;
* crash recoveries over the last 7 days are recounted from the store's per-device counters.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import Counter
from typing import Mapping

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from provisioning.fleet.store.engine import write_transaction
from provisioning.fleet.store.hot_sql import for_dialect
from provisioning.fleet.store.schema import devices
from provisioning.fleet.store.staff_schema import (
    commune_moves, commune_places, usage_commune_daily, usage_commune_monthly, usage_fleet_daily, usage_inbox,
)

CRASH_WINDOW_DAYS = 7


def utc_day(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).date().isoformat()


def dialect_insert(conn: sa.Connection, table: sa.Table):
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(table)


# The same SQL text on SQLite and PostgreSQL. A fold adds a batch's sums with these three; the check-in's
# transaction (on the driver's cursor, like the ingest's own hot path) only appends to the inbox.
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
ADD_TO_INBOX = """
INSERT INTO dash_usage_inbox (commune_insee, counters, received_at) VALUES (:commune_insee, :counters, :received_at)
"""
# Takes the oldest inbox rows (up to :ceiling, the newest id when the fold began) out of the inbox: on
# PostgreSQL a row another fold is taking is waited for, then skipped once it is gone (never counted twice).
CLAIM_FROM_INBOX = """
DELETE FROM dash_usage_inbox WHERE id IN (
    SELECT id FROM dash_usage_inbox WHERE id <= :ceiling ORDER BY id LIMIT :limit)
RETURNING commune_insee, counters
"""
FOLD_BATCH_ROWS = 5000
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
    cursor.execute(for_dialect(ADD_TO_INBOX, dialect), {
        "commune_insee": commune_insee, "received_at": now,
        "counters": json.dumps([[day, metric, key, count] for (day, metric, key), count in counters.items()],
                               separators=(",", ":"))})
    if any(metric == "crash_recovered" for _, metric, _ in counters):
        cursor.execute(for_dialect(ENSURE_ASSET, dialect), {"asset_tag": asset_tag})
        cursor.execute(for_dialect(RECOUNT_CRASHES, dialect), {
            "asset_tag": asset_tag, "device_id": device_id, "since": utc_day(now - CRASH_WINDOW_DAYS * 86400)})


def fold_usage_on(conn: sa.Connection, ceiling: int | None = None, limit: int = FOLD_BATCH_ROWS) -> int:
    """Inside a write transaction: move up to ``limit`` of the oldest inbox rows (ids up to ``ceiling``;
    default: all) into the dashboard's usage counters; returns how many rows were folded (0: none left)."""
    if ceiling is None:
        ceiling = conn.execute(sa.select(sa.func.max(usage_inbox.c.id))).scalar()
        if ceiling is None:
            return 0
    claimed = conn.execute(sa.text(CLAIM_FROM_INBOX), {"ceiling": ceiling, "limit": limit}).all()
    fleet: Counter = Counter()
    daily: Counter = Counter()
    monthly: Counter = Counter()
    for commune_insee, counters in claimed:
        for day, metric, key, count in json.loads(counters):
            fleet[(metric, day, key)] += count
            daily[(metric, day, commune_insee, key)] += count
            monthly[(metric, day[:7], commune_insee, key)] += count
    # Each counter once per batch, in key order (two PostgreSQL folds lock shared rows in the same order).
    for statement, sums, names in (
            (ADD_FLEET_USAGE, fleet, ("metric", "day", "key")),
            (ADD_COMMUNE_USAGE, daily, ("metric", "day", "commune_insee", "key")),
            (ADD_COMMUNE_MONTHLY_USAGE, monthly, ("metric", "month", "commune_insee", "key"))):
        if sums:
            conn.execute(sa.text(statement), [dict(zip(names, slot), count=count) for slot, count in sorted(sums.items())])
    return len(claimed)


def fold_usage(engine: sa.Engine) -> int:
    """Fold every inbox row present when called (a transaction per batch); returns how many were folded.
    Readers of the usage counters call this first; it writes nothing when the inbox is empty."""
    with engine.connect() as conn:
        ceiling = conn.execute(sa.select(sa.func.max(usage_inbox.c.id))).scalar()
    folded = 0
    while ceiling is not None:
        with write_transaction(engine) as conn:
            batch = fold_usage_on(conn, ceiling)
        folded += batch
        if not batch:
            break
    return folded


class FoldSchedule:
    """When a check-in worker folds the usage inbox after a check-in: at most once every ``every_s``
    while check-ins follow each other, and at once after a check-in that came after a quiet moment of
    ``quiet_s`` (a small fleet's counters are exact right away; a busy server folds large batches)."""

    def __init__(self, every_s: float = 1.0, quiet_s: float = 0.25, clock=time.monotonic) -> None:
        self.every_s, self.quiet_s, self.clock = every_s, quiet_s, clock
        self._last_fold = float("-inf")
        self._last_request_end = float("-inf")

    def due(self, request_started: float) -> bool:
        """Whether to fold now, after a check-in that began at ``request_started`` (``clock``'s time)."""
        now = self.clock()
        quiet_before = request_started - self._last_request_end >= self.quiet_s
        self._last_request_end = now
        if quiet_before or now - self._last_fold >= self.every_s:
            self._last_fold = now
            return True
        return False


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
