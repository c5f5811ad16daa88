"""Hand-written SQL for the check-in hot path, run on the driver's cursor (the same text on SQLite and
PostgreSQL). The tables are the ones declared in :mod:`provisioning.fleet.store.schema`; a test runs the
ingest on both databases. SQLAlchemy Core builds everything else; here its per-statement overhead
would be most of the cost of a check-in.
"""

from __future__ import annotations

import re
from functools import lru_cache

_NAMED = re.compile(r"(?<!:):([a-z_][a-z0-9_]*)")


@lru_cache(maxsize=None)
def for_dialect(sql: str, dialect: str) -> str:
    """``:name`` and ``?`` parameters (sqlite3's styles) become ``%(name)s`` and ``%s`` for psycopg."""
    if dialect == "sqlite":
        return sql
    return _NAMED.sub(r"%(\1)s", sql.replace("%", "%%")).replace("?", "%s")


def fetch_one_on(dbapi_connection, dialect: str, sql: str, params: dict):
    """The first row of a read on a driver connection (None: no row), leaving it with no transaction
    open (PostgreSQL opened one for the read; SQLite had none): the check-in's connection is kept."""
    return _read_on(dbapi_connection, dialect, sql, params, lambda cursor: cursor.fetchone())


def fetch_all_on(dbapi_connection, dialect: str, sql: str, params: dict) -> list:
    """Every row of a read on a driver connection, leaving it with no transaction open."""
    return _read_on(dbapi_connection, dialect, sql, params, lambda cursor: cursor.fetchall())


def _read_on(dbapi_connection, dialect: str, sql: str, params: dict, fetch):
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(for_dialect(sql, dialect), params)
        rows = fetch(cursor)
    finally:
        cursor.close()
    dbapi_connection.rollback()
    return rows


# Looked up once per worker process and token (ingest.KnownTokens); the check-in's transaction re-reads
# the token's state (DEVICE_STATE).
AUTH = """
SELECT t.id, t.device_id, t.revoked_at, t.pending, d.rotate_requested_at, d.last_seq
FROM device_tokens t JOIN devices d ON d.id = t.device_id
WHERE t.token_sha256 = :digest
"""

# First statement of the check-in's transaction: the device's state and its token's, read under the
# write lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: the row lock below), so two check-ins of one machine
# never interleave and a revocation committed since the token was looked up takes effect.
DEVICE_STATE = """
SELECT d.last_seq, d.asset_tag, d.commune_insee, d.rotate_requested_at, t.pending, t.revoked_at
FROM device_tokens t JOIN devices d ON d.id = t.device_id
WHERE t.id = :token_id AND d.id = :device_id
"""
LOCK_DEVICE_ROW = {"postgresql": " FOR UPDATE OF d"}

# The machine's new deadline (store/deadlines.py), set here so that SQLite's trigger has nothing to write.
LATE_AT = "late_at = :now + 2 * (SELECT expected_interval_s FROM communes WHERE insee = devices.commune_insee)"
UPDATE_DEVICE = f"UPDATE devices SET last_seen_at = :now, last_seq = :last_seq, {LATE_AT} WHERE id = :device_id"

# The same, with the newest sample of the batch as the machine's health snapshot, unless the snapshot
# already holds a newer one (a sample arriving late). Conditions read the row as it was before.
SNAPSHOT_FIELDS = ("disk_used_percent", "memory_used_percent", "temperature_max_c", "uptime_s")
_NEWER = "health_at IS NULL OR health_at <= :health_at"
UPDATE_DEVICE_AND_SNAPSHOT = (
    f"UPDATE devices SET last_seen_at = :now, last_seq = :last_seq, {LATE_AT}, "
    + ", ".join(f"{name} = CASE WHEN {_NEWER} THEN :{name} ELSE {name} END"
                for name in ("health_at",) + SNAPSHOT_FIELDS)
    + " WHERE id = :device_id"
)

# Rotation (rare): the first use of a pending token revokes the others; a requested rotation hands
# out a new pending token, replacing any earlier pending one whose answer may have been lost.
REVOKE_OTHER_TOKENS = """
UPDATE device_tokens SET revoked_at = :now
WHERE device_id = :device_id AND id <> :token_id AND revoked_at IS NULL
"""
CONFIRM_TOKEN = "UPDATE device_tokens SET pending = :pending WHERE id = :token_id"
ROTATION_DONE = "UPDATE devices SET rotate_requested_at = NULL WHERE id = :device_id"
REVOKE_PENDING_TOKENS = """
UPDATE device_tokens SET revoked_at = :now
WHERE device_id = :device_id AND pending = :pending AND revoked_at IS NULL
"""
INSERT_PENDING_TOKEN = """
INSERT INTO device_tokens (device_id, token_sha256, created_at, pending)
VALUES (:device_id, :digest, :now, :pending)
"""

# Only asked when a batch reaches back to sequence numbers the device already sent (a lost answer,
# a retry): every stored record has a sequence number <= devices.last_seq.
OVERLAPPING_HEALTH = """
SELECT samples FROM health_batches WHERE device_id = :device_id AND last_seq >= :low AND first_seq <= :high
"""
OTHER_STORED = """
SELECT seq FROM usage_reports WHERE device_id = :device_id AND seq BETWEEN :low AND :high
UNION ALL
SELECT seq FROM inventory_reports WHERE device_id = :device_id AND seq BETWEEN :low AND :high
"""

INSERT_HEALTH_BATCH = """
INSERT INTO health_batches (device_id, first_seq, last_seq, at_first, at_last, received_at, samples)
VALUES (:device_id, :first_seq, :last_seq, :at_first, :at_last, :received_at, :samples)
"""


def _greater(column: str, table: str) -> str:
    """The larger of the stored and incoming value, ignoring NULLs (portable: no GREATEST/max())."""
    return (f"CASE WHEN {table}.{column} IS NULL THEN excluded.{column} "
            f"WHEN excluded.{column} IS NULL THEN {table}.{column} "
            f"WHEN excluded.{column} > {table}.{column} THEN excluded.{column} ELSE {table}.{column} END")


_ROLLUP_COLUMNS = ("device_id", "period_start", "samples", "cpu_sum", "cpu_n", "cpu_max", "memory_sum",
                   "memory_n", "memory_max", "load_max", "disk_used_max", "temperature_max", "kiosk_restarts")


def _rollup_upsert(table: str) -> str:
    added = ", ".join(f"{name} = {table}.{name} + excluded.{name}"
                      for name in ("samples", "cpu_sum", "cpu_n", "memory_sum", "memory_n", "kiosk_restarts"))
    maxima = ", ".join(f"{name} = {_greater(name, table)}"
                       for name in ("cpu_max", "memory_max", "load_max", "disk_used_max", "temperature_max"))
    return (f"INSERT INTO {table} ({', '.join(_ROLLUP_COLUMNS)}) "
            f"VALUES ({', '.join(':' + name for name in _ROLLUP_COLUMNS)}) "
            f"ON CONFLICT (device_id, period_start) DO UPDATE SET {added}, {maxima}")


UPSERT_HOURLY = _rollup_upsert("health_hourly")
UPSERT_DAILY = _rollup_upsert("health_daily")

INSERT_USAGE_REPORT = """
INSERT INTO usage_reports (device_id, seq, at, day, received_at)
VALUES (:device_id, :seq, :at, :day, :received_at)
ON CONFLICT (device_id, seq) DO NOTHING
"""

UPSERT_USAGE_COUNTER = """
INSERT INTO usage_daily (device_id, day, metric, key, count) VALUES (:device_id, :day, :metric, :key, :count)
ON CONFLICT (device_id, day, metric, key) DO UPDATE SET count = usage_daily.count + excluded.count
"""

_INVENTORY_COLUMNS = ("device_id", "seq", "at", "received_at", "vendor", "model", "serial", "uuid", "cpu_model",
                      "cpu_count", "memory_bytes", "disks_json", "macs_json", "os", "kernel", "kiosk_version")
INSERT_INVENTORY = (
    f"INSERT INTO inventory_reports ({', '.join(_INVENTORY_COLUMNS)}) "
    f"VALUES ({', '.join(':' + name for name in _INVENTORY_COLUMNS)}) "
    "ON CONFLICT (device_id, seq) DO NOTHING"
)

SET_KIOSK_VERSION = "UPDATE devices SET kiosk_version = :kiosk_version WHERE id = :device_id"
