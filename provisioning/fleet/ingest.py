"""The check-in hot path: authenticate a device, then store a validated batch in ONE transaction.

The transaction first touches (and so locks) the device's row, then reads which of the batch's sequence
numbers are already stored; only the others are inserted (``ON CONFLICT (device_id, seq) DO NOTHING`` as
a second guard) and feed the roll-ups and usage counters. A replayed or overlapping batch changes nothing
and is simply acknowledged again (at-most-once storage, at-least-once delivery).

Everything runs on the driver's own connection and cursor (:mod:`provisioning.fleet.hot_sql`): building
SQLAlchemy statements and connections per request would cost more than the storage itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Engine

from kiosk.protocol import HEALTH_FIELDS
from provisioning.fleet import hot_sql
from provisioning.fleet.dashboard.readmodel import apply_ingested
from provisioning.fleet.db import raw_write_transaction
from provisioning.fleet.errors import ApiError
from provisioning.fleet.secrets_hashing import digest, new_secret

INVENTORY_TEXT = ("vendor", "model", "serial", "uuid", "cpu_model", "os", "kernel", "kiosk_version")
REVOKED = "this device token was revoked: enrol the machine again with a new code"


@dataclass(frozen=True)
class DeviceAuth:
    token_id: int
    device_id: int
    pending: bool
    rotate_requested: bool
    last_seq: int = 0


def authenticate_on(dbapi_connection, dialect: str, token: str) -> DeviceAuth:
    """The device a token belongs to, read on a driver connection (left with no transaction open)."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(hot_sql.for_dialect(hot_sql.AUTH, dialect), {"digest": digest(token)})
        row = cursor.fetchone()
    finally:
        cursor.close()
    dbapi_connection.rollback()  # PostgreSQL opened a read transaction; SQLite had none (no-op)
    if row is None:
        raise ApiError(401, "unknown device token: enrol the machine again with a new code")
    token_id, device_id, revoked_at, pending, rotate_requested_at, last_seq = row
    if revoked_at is not None:
        raise ApiError(401, REVOKED)
    return DeviceAuth(token_id, device_id, bool(pending), rotate_requested_at is not None, int(last_seq))


def authenticate(engine: Engine, token: str) -> DeviceAuth:
    connection = engine.raw_connection()
    try:
        return authenticate_on(connection, engine.dialect.name, token)
    finally:
        connection.close()


def _rollups(device_id: int, samples: list[tuple], period: int) -> list[dict]:
    """Sums, counts and maxima per period over new samples ``(seq, at, data)``, in arrival order."""
    grouped: dict[int, list[dict]] = {}
    for _seq, at, data in samples:
        start = int(at // period * period)
        group = grouped.get(start)
        if group is None:
            grouped[start] = [data]
        else:
            group.append(data)
    rows = []
    for start, group in grouped.items():
        row = {"device_id": device_id, "period_start": start, "samples": len(group),
               "kiosk_restarts": sum([data.get("kiosk_restarts") or 0 for data in group])}
        for value_key, prefix in (("cpu_percent", "cpu"), ("memory_used_percent", "memory")):
            values = [value for value in [data.get(value_key) for data in group] if value is not None]
            row[prefix + "_sum"] = sum(values, 0.0)
            row[prefix + "_n"] = len(values)
            row[prefix + "_max"] = max(values) if values else None
        for value_key, target in (("load1", "load_max"), ("disk_used_percent", "disk_used_max"),
                                  ("temperature_max_c", "temperature_max")):
            values = [value for value in [data.get(value_key) for data in group] if value is not None]
            row[target] = max(values) if values else None
        rows.append(row)
    return rows


def _inventory_row(device_id: int, seq: int, at: float, data: dict, now: float) -> dict:
    row = {name: data.get(name) for name in INVENTORY_TEXT}
    row.update(device_id=device_id, seq=seq, at=at, received_at=now,
               cpu_count=data.get("cpu_count"), memory_bytes=data.get("memory_bytes"),
               disks_json=json.dumps(data.get("disks") or [], separators=(",", ":")),
               macs_json=json.dumps(data.get("macs") or [], separators=(",", ":")))
    return row


def ingest(engine: Engine, auth: DeviceAuth, records: list[dict], now: float,
           raw_health_cutoff: float = 0.0) -> dict:
    """Store a validated batch; return the acknowledged sequence numbers (new and already stored)."""
    connection = engine.raw_connection()
    try:
        return ingest_on(engine, connection, auth, records, now, raw_health_cutoff)
    finally:
        connection.close()


def ingest_on(engine: Engine, dbapi_connection, auth: DeviceAuth, records: list[dict], now: float,
              raw_health_cutoff: float = 0.0) -> dict:
    """:func:`ingest` on a driver connection already checked out (the one the token was read on).

    The agent sends its oldest unacknowledged records first, a batch at a time, so a health sample
    with ``seq <= last_seq`` was received before; when it is also older than the raw retention, its
    raw row may already be pruned, and it must not be counted a second time in the roll-ups.
    """
    device_id = auth.device_id
    dialect = engine.dialect.name
    health, usage, inventory = [], [], []
    for record in records:
        kind = record["type"]
        seq = int(record["seq"])
        if kind == "health":
            if seq <= auth.last_seq and record["at"] < raw_health_cutoff:
                continue
            health.append((seq, record["at"], record["data"]))
        elif kind == "usage":
            usage.append((seq, record["at"], record["data"]))
        else:
            inventory.append((seq, record["at"], record["data"]))
    seqs = [int(record["seq"]) for record in records]
    answer: dict = {}

    def sql(text: str) -> str:
        return hot_sql.for_dialect(text, dialect)

    with raw_write_transaction(engine, dbapi_connection) as cursor:
        top = max(seqs, default=0)
        cursor.execute(sql(hot_sql.TOUCH_DEVICE),
                       {"now": now, "top": top, "device_id": device_id, "token_id": auth.token_id})
        device = cursor.fetchone()
        if device is None:  # revoked between the token check and this transaction
            raise ApiError(401, REVOKED)
        asset_tag, commune_insee = device
        stored: set[int] = set()
        if seqs:
            cursor.execute(sql(hot_sql.ALREADY_STORED), {"device_id": device_id, "low": min(seqs), "high": top})
            stored = {int(row[0]) for row in cursor.fetchall()}
        new_health = [item for item in health if item[0] not in stored] if stored else health
        latest_health = None
        if new_health:
            values: list = []
            for seq, at, data in new_health:
                values += (device_id, seq, at, now, *map(data.get, HEALTH_FIELDS))
            cursor.execute(hot_sql.insert_health(len(new_health), dialect), values)
            cursor.executemany(sql(hot_sql.UPSERT_HOURLY), _rollups(device_id, new_health, 3600))
            cursor.executemany(sql(hot_sql.UPSERT_DAILY), _rollups(device_id, new_health, 86400))
            _seq, at, data = max(new_health, key=lambda item: item[1])
            latest_health = {**data, "at": at}
        counters: dict[tuple, int] = {}
        new_usage = [item for item in usage if item[0] not in stored]
        if new_usage:
            cursor.executemany(sql(hot_sql.INSERT_USAGE_REPORT), [
                {"device_id": device_id, "seq": seq, "at": at, "day": data["day"], "received_at": now}
                for seq, at, data in new_usage])
            for _seq, _at, data in new_usage:
                day = data["day"]
                for metric, key, count in data["counters"]:
                    slot = (day, metric, key)
                    counters[slot] = counters.get(slot, 0) + int(count)
            cursor.executemany(sql(hot_sql.UPSERT_USAGE_COUNTER), [
                {"device_id": device_id, "day": day, "metric": metric, "key": key, "count": count}
                for (day, metric, key), count in counters.items()])
        new_inventory = [_inventory_row(device_id, seq, at, data, now)
                         for seq, at, data in inventory if seq not in stored]
        if new_inventory:
            cursor.executemany(sql(hot_sql.INSERT_INVENTORY), new_inventory)
            latest = max(new_inventory, key=lambda row: row["seq"])
            if latest["kiosk_version"]:
                cursor.execute(sql(hot_sql.SET_KIOSK_VERSION),
                               {"kiosk_version": latest["kiosk_version"], "device_id": device_id})
        # The staff dashboard's read model (latest health, per-commune usage), from what is new only.
        apply_ingested(cursor, dialect, device_id, asset_tag, commune_insee, latest_health, counters, now)
        if auth.pending:
            _promote_pending_token(cursor, sql, device_id, auth.token_id, now)
        elif auth.rotate_requested:
            answer["token"] = _hand_out_pending_token(cursor, sql, device_id, now)
    answer["acked"] = sorted(seqs)
    return answer


def _promote_pending_token(cursor, sql, device_id: int, token_id: int, now: float) -> None:
    """First use of a rotated token: it becomes the only valid one."""
    cursor.execute(sql(hot_sql.REVOKE_OTHER_TOKENS), {"now": now, "device_id": device_id, "token_id": token_id})
    cursor.execute(sql(hot_sql.CONFIRM_TOKEN), {"pending": False, "token_id": token_id})
    cursor.execute(sql(hot_sql.ROTATION_DONE), {"device_id": device_id})


def _hand_out_pending_token(cursor, sql, device_id: int, now: float) -> str:
    """A new pending token (replacing any earlier pending one whose answer may have been lost)."""
    cursor.execute(sql(hot_sql.REVOKE_PENDING_TOKENS), {"now": now, "device_id": device_id, "pending": True})
    token = new_secret()
    cursor.execute(sql(hot_sql.INSERT_PENDING_TOKEN),
                   {"device_id": device_id, "digest": digest(token), "now": now, "pending": True})
    return token
