"""The check-in hot path: authenticate a device, then store a validated batch in ONE transaction.

The transaction first touches (and so locks) the device's row, then reads which of the batch's sequence
numbers are already stored; only the others are inserted (``ON CONFLICT (device_id, seq) DO NOTHING`` as
a second guard) and feed the roll-ups and usage counters. A replayed or overlapping batch changes nothing
and is simply acknowledged again (at-most-once storage, at-least-once delivery).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Engine

from kiosk.protocol import HEALTH_FIELDS
from provisioning.fleet import hot_sql
from provisioning.fleet.dashboard.readmodel import apply_ingested
from provisioning.fleet.db import write_transaction
from provisioning.fleet.enrolment import promote_pending_token, rotate_in_checkin
from provisioning.fleet.errors import ApiError
from provisioning.fleet.secrets_hashing import digest

INVENTORY_TEXT = ("vendor", "model", "serial", "uuid", "cpu_model", "os", "kernel", "kiosk_version")


@dataclass(frozen=True)
class DeviceAuth:
    token_id: int
    device_id: int
    pending: bool
    rotate_requested: bool
    last_seq: int = 0


def authenticate(engine: Engine, token: str) -> DeviceAuth:
    with engine.connect() as connection:
        cursor = connection.connection.dbapi_connection.cursor()
        try:
            cursor.execute(hot_sql.for_dialect(hot_sql.AUTH, engine.dialect.name), {"digest": digest(token)})
            row = cursor.fetchone()
        finally:
            cursor.close()
        connection.rollback()
    if row is None:
        raise ApiError(401, "unknown device token: enrol the machine again with a new code")
    token_id, device_id, revoked_at, pending, rotate_requested_at, last_seq = row
    if revoked_at is not None:
        raise ApiError(401, "this device token was revoked: enrol the machine again with a new code")
    return DeviceAuth(token_id, device_id, bool(pending), rotate_requested_at is not None, int(last_seq))


def _empty_rollup(device_id: int, period_start: int) -> dict:
    return {"device_id": device_id, "period_start": period_start, "samples": 0, "cpu_sum": 0.0, "cpu_n": 0,
            "cpu_max": None, "memory_sum": 0.0, "memory_n": 0, "memory_max": None, "load_max": None,
            "disk_used_max": None, "temperature_max": None, "kiosk_restarts": 0}


def _fold(rollup: dict, sample: dict) -> None:
    rollup["samples"] += 1
    for value_key, prefix in (("cpu_percent", "cpu"), ("memory_used_percent", "memory")):
        value = sample.get(value_key)
        if value is not None:
            rollup[prefix + "_sum"] += value
            rollup[prefix + "_n"] += 1
            rollup[prefix + "_max"] = value if rollup[prefix + "_max"] is None else max(rollup[prefix + "_max"], value)
    for value_key, target in (("load1", "load_max"), ("disk_used_percent", "disk_used_max"),
                              ("temperature_max_c", "temperature_max")):
        value = sample.get(value_key)
        if value is not None:
            rollup[target] = value if rollup[target] is None else max(rollup[target], value)
    rollup["kiosk_restarts"] += sample.get("kiosk_restarts") or 0


def _rollups(device_id: int, samples: list[dict], period: int) -> list[dict]:
    grouped: dict[int, dict] = {}
    for sample in samples:
        start = int(sample["at"] // period * period)
        rollup = grouped.get(start)
        if rollup is None:
            rollup = grouped[start] = _empty_rollup(device_id, start)
        _fold(rollup, sample)
    return list(grouped.values())


def ingest(engine: Engine, auth: DeviceAuth, records: list[dict], now: float,
           raw_health_cutoff: float = 0.0) -> dict:
    """Store a validated batch; return the acknowledged sequence numbers (new and already stored).

    The agent sends its oldest unacknowledged records first, a batch at a time, so a health sample
    with ``seq <= last_seq`` was received before; when it is also older than the raw retention, its
    raw row may already be pruned, and it must not be counted a second time in the roll-ups.
    """
    device_id = auth.device_id
    health, usage, inventory = [], [], []
    by_seq: dict[int, dict] = {}
    for record in records:
        seq = int(record["seq"])
        data = record["data"]
        if record["type"] == "health":
            if seq <= auth.last_seq and record["at"] < raw_health_cutoff:
                continue
            health.append((seq, record["at"], data))
        elif record["type"] == "usage":
            usage.append({"device_id": device_id, "seq": seq, "at": record["at"], "day": data["day"],
                          "received_at": now})
            by_seq[seq] = data
        else:
            row = {name: data.get(name) for name in INVENTORY_TEXT}
            row.update(device_id=device_id, seq=seq, at=record["at"], received_at=now,
                       cpu_count=data.get("cpu_count"), memory_bytes=data.get("memory_bytes"),
                       disks_json=json.dumps(data.get("disks") or [], separators=(",", ":")),
                       macs_json=json.dumps(data.get("macs") or [], separators=(",", ":")))
            inventory.append(row)
    answer: dict = {}
    dialect = engine.dialect.name

    def sql(text: str) -> str:
        return hot_sql.for_dialect(text, dialect)

    seqs = [int(record["seq"]) for record in records]
    with write_transaction(engine) as connection:
        cursor = connection.connection.dbapi_connection.cursor()
        try:
            top = max(seqs, default=0)
            cursor.execute(sql(hot_sql.TOUCH_DEVICE), {"now": now, "top": top, "device_id": device_id})
            stored: set[int] = set()
            if seqs:
                cursor.execute(sql(hot_sql.ALREADY_STORED), {"device_id": device_id, "low": min(seqs), "high": top})
                stored = {int(row[0]) for row in cursor.fetchall()}
            new_health = [item for item in health if item[0] not in stored]
            new = [{**data, "at": at} for _seq, at, data in new_health]
            if new:
                cursor.executemany(sql(hot_sql.INSERT_HEALTH), [
                    (device_id, seq, at, now, *[data.get(name) for name in HEALTH_FIELDS])
                    for seq, at, data in new_health])
                cursor.executemany(sql(hot_sql.UPSERT_HOURLY), _rollups(device_id, new, 3600))
                cursor.executemany(sql(hot_sql.UPSERT_DAILY), _rollups(device_id, new, 86400))
            counters: dict[tuple, int] = {}
            new_usage = [row for row in usage if row["seq"] not in stored]
            if new_usage:
                cursor.executemany(sql(hot_sql.INSERT_USAGE_REPORT), new_usage)
                for row in new_usage:
                    data = by_seq[row["seq"]]
                    for metric, key, count in data["counters"]:
                        slot = (data["day"], metric, key)
                        counters[slot] = counters.get(slot, 0) + int(count)
                cursor.executemany(sql(hot_sql.UPSERT_USAGE_COUNTER), [
                    {"device_id": device_id, "day": day, "metric": metric, "key": key, "count": count}
                    for (day, metric, key), count in counters.items()])
            new_inventory = [row for row in inventory if row["seq"] not in stored]
            if new_inventory:
                cursor.executemany(sql(hot_sql.INSERT_INVENTORY), new_inventory)
                latest = max(new_inventory, key=lambda row: row["seq"])
                if latest["kiosk_version"]:
                    cursor.execute(sql(hot_sql.SET_KIOSK_VERSION),
                                   {"kiosk_version": latest["kiosk_version"], "device_id": device_id})
        finally:
            cursor.close()
        # The staff dashboard's read model (latest health, per-commune usage), from what is new only.
        apply_ingested(connection, device_id, new, counters, now)
        if auth.pending:
            promote_pending_token(connection, device_id, auth.token_id, now)
        elif auth.rotate_requested:
            answer["token"] = rotate_in_checkin(connection, device_id, now)
    answer["acked"] = sorted(int(record["seq"]) for record in records)
    return answer
