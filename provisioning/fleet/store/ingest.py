"""The check-in hot path: authenticate a device, then store a validated batch in ONE transaction.

Writers queue for the store (SQLite has one writer at a time), so the batch's rows, roll-ups and
counters are prepared *before* the write lock is taken (:class:`Additions`), assuming every record is
new. The transaction then reads the device's and token's state (locking the device's row); when the
batch reaches back to sequence numbers at or below the device's ``last_seq`` (a lost answer, a retry),
it reads which are already stored and prepares the others again. Only new records are inserted and
feed the roll-ups and usage counters: a replayed or overlapping batch changes nothing and is simply
acknowledged again (at-most-once storage, at-least-once delivery).

Everything runs on the driver's own connection and cursor (:mod:`provisioning.fleet.store.hot_sql`): building
SQLAlchemy statements and connections per request would cost more than the storage itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Engine

from kiosk.protocol import MAX_SEQ_ADVANCE
from provisioning.fleet.store import hot_sql, raw_health
from provisioning.fleet.store.readmodel import apply_ingested, fold_usage
from provisioning.fleet.store.engine import raw_write_transaction
from provisioning.fleet.errors import ApiError
from provisioning.fleet.store.schema import DEVICE_USAGE_METRICS
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


def authenticate_on(dbapi_connection, dialect: str, token: str, token_digest: str | None = None) -> DeviceAuth:
    """The device a token belongs to, read on a driver connection (left with no transaction open)."""
    row = hot_sql.fetch_one_on(dbapi_connection, dialect, hot_sql.AUTH, {"digest": token_digest or digest(token)})
    if row is None:
        raise ApiError(401, "unknown device token: enrol the machine again with a new code")
    token_id, device_id, revoked_at, pending, rotate_requested_at, last_seq = row
    if revoked_at is not None:
        raise ApiError(401, REVOKED)
    return DeviceAuth(token_id, device_id, bool(pending), rotate_requested_at is not None, int(last_seq))


class KnownTokens:
    """Token digest -> (token id, device id), remembered per worker process and store.

    Only the mapping is remembered, never whether the token is valid: every check-in's transaction reads
    the token's state again (revoked, pending) under the write lock. Bounded: emptied when full.
    """

    def __init__(self, limit: int = 200_000) -> None:
        self.limit = limit
        self._ids: dict[str, DeviceAuth] = {}

    def get(self, token_digest: str) -> DeviceAuth | None:
        return self._ids.get(token_digest)

    def remember(self, token_digest: str, auth: DeviceAuth) -> None:
        if len(self._ids) >= self.limit:
            self._ids.clear()
        self._ids[token_digest] = auth

    def forget(self, token_digest: str) -> None:
        self._ids.pop(token_digest, None)


def authenticate(engine: Engine, token: str) -> DeviceAuth:
    connection = engine.raw_connection()
    try:
        return authenticate_on(connection, engine.dialect.name, token)
    finally:
        connection.close()


_SUMS = ("samples", "kiosk_restarts", "cpu_sum", "cpu_n", "memory_sum", "memory_n")
_MAXIMA = ("cpu_max", "memory_max", "load_max", "disk_used_max", "temperature_max")


def _hourly_rollups(device_id: int, samples: list[tuple]) -> list[dict]:
    """Sums, counts and maxima per hour over new samples ``(seq, at, data)``."""
    grouped: dict[int, list[dict]] = {}
    for _seq, at, data in samples:
        grouped.setdefault(int(at // 3600 * 3600), []).append(data)
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


def _daily_rollups(hourly: list[dict]) -> list[dict]:
    """The same figures per day, merged from the hourly ones (a check-in spans one or two hours)."""
    days: dict[int, dict] = {}
    for hour in hourly:
        start = hour["period_start"] // 86400 * 86400
        day = days.get(start)
        if day is None:
            days[start] = dict(hour, period_start=start)
            continue
        for name in _SUMS:
            day[name] += hour[name]
        for name in _MAXIMA:
            if hour[name] is not None and (day[name] is None or hour[name] > day[name]):
                day[name] = hour[name]
    return list(days.values())


def _inventory_row(device_id: int, seq: int, at: float, data: dict, now: float) -> dict:
    row = {name: data.get(name) for name in INVENTORY_TEXT}
    row.update(device_id=device_id, seq=seq, at=at, received_at=now,
               cpu_count=data.get("cpu_count"), memory_bytes=data.get("memory_bytes"),
               disks_json=json.dumps(data.get("disks") or [], separators=(",", ":")),
               macs_json=json.dumps(data.get("macs") or [], separators=(",", ":")))
    return row


class Additions:
    """What storing some records adds to the store: rows, roll-up increments and usage counts.

    Built from records ``(seq, at, data)`` per kind, all taken as new; :meth:`without` builds the
    additions of the records that are left once those already stored are known.
    """

    def __init__(self, device_id: int, now: float, health: list, usage: list, inventory: list) -> None:
        self.device_id, self.now = device_id, now
        self.health, self.usage, self.inventory = health, usage, inventory
        self.health_rows = raw_health.batch_rows(device_id, health, now) if health else []
        self.hourly = _hourly_rollups(device_id, health) if health else []
        self.daily = _daily_rollups(self.hourly)
        self.snapshot = None  # the newest sample's fields the dashboard shows
        if health:
            _seq, at, data = max(health, key=lambda item: item[1])
            self.snapshot = {"health_at": at, **{name: data.get(name) for name in hot_sql.SNAPSHOT_FIELDS}}
        self.usage_rows = [{"device_id": device_id, "seq": seq, "at": at, "day": data["day"], "received_at": now}
                           for seq, at, data in usage]
        self.counters: dict[tuple, int] = {}
        for _seq, _at, data in usage:
            day = data["day"]
            for metric, key, count in data["counters"]:
                slot = (day, metric, key)
                self.counters[slot] = self.counters.get(slot, 0) + int(count)
        self.counter_rows = [{"device_id": device_id, "day": day, "metric": metric, "key": key, "count": count}
                             for (day, metric, key), count in self.counters.items()
                             if metric in DEVICE_USAGE_METRICS]
        self.inventory_rows = [_inventory_row(device_id, seq, at, data, now) for seq, at, data in inventory]

    @classmethod
    def of_records(cls, device_id: int, records: list[dict], now: float) -> "Additions":
        kinds: dict[str, list] = {"health": [], "usage": [], "inventory": []}
        for record in records:
            kinds[record["type"]].append((int(record["seq"]), record["at"], record["data"]))
        for items in kinds.values():
            items.sort(key=lambda item: item[0])
        return cls(device_id, now, kinds["health"], kinds["usage"], kinds["inventory"])

    def without(self, stored: set[int], last_seq: int, raw_health_cutoff: float) -> "Additions":
        """The additions of the records not already stored.

        The agent sends its oldest unacknowledged records first, a batch at a time, so a health sample
        with ``seq <= last_seq`` was received before; when it is also older than the raw retention, its
        raw row may already be pruned, and it must not be counted a second time in the roll-ups.
        """
        health = [item for item in self.health if item[0] not in stored
                  and not (item[0] <= last_seq and item[1] < raw_health_cutoff)]
        return Additions(self.device_id, self.now, health,
                         [item for item in self.usage if item[0] not in stored],
                         [item for item in self.inventory if item[0] not in stored])

    def write(self, cursor, dialect: str) -> None:
        def sql(text: str) -> str:
            return hot_sql.for_dialect(text, dialect)

        if self.health_rows:
            cursor.executemany(sql(hot_sql.INSERT_HEALTH_BATCH), self.health_rows)
            cursor.executemany(sql(hot_sql.UPSERT_HOURLY), self.hourly)
            cursor.executemany(sql(hot_sql.UPSERT_DAILY), self.daily)
        if self.usage_rows:
            cursor.executemany(sql(hot_sql.INSERT_USAGE_REPORT), self.usage_rows)
            if self.counter_rows:
                cursor.executemany(sql(hot_sql.UPSERT_USAGE_COUNTER), self.counter_rows)
        if self.inventory_rows:
            cursor.executemany(sql(hot_sql.INSERT_INVENTORY), self.inventory_rows)
            latest = max(self.inventory_rows, key=lambda row: row["seq"])
            if latest["kiosk_version"]:
                cursor.execute(sql(hot_sql.SET_KIOSK_VERSION),
                               {"kiosk_version": latest["kiosk_version"], "device_id": self.device_id})


def ingest(engine: Engine, auth: DeviceAuth, records: list[dict], now: float,
           raw_health_cutoff: float = 0.0) -> dict:
    """Store a validated batch; return the acknowledged sequence numbers (new and already stored). The
    dashboard's usage counters are brought up to date too (the check-in endpoint folds in batches)."""
    connection = engine.raw_connection()
    try:
        answer = ingest_on(engine, connection, auth, records, now, raw_health_cutoff)
    finally:
        connection.close()
    fold_usage(engine)
    return answer


def _already_stored(cursor, dialect: str, device_id: int, low: int, high: int) -> set[int]:
    bounds = {"device_id": device_id, "low": low, "high": high}
    cursor.execute(hot_sql.for_dialect(hot_sql.OVERLAPPING_HEALTH, dialect), bounds)
    stored = raw_health.overlapping_seqs(cursor.fetchall(), low, high)
    cursor.execute(hot_sql.for_dialect(hot_sql.OTHER_STORED, dialect), bounds)
    stored.update(int(row[0]) for row in cursor.fetchall())
    return stored


def ingest_on(engine: Engine, dbapi_connection, auth: DeviceAuth, records: list[dict], now: float,
              raw_health_cutoff: float = 0.0) -> dict:
    """:func:`ingest` on a driver connection already checked out (the one the token was read on)."""
    device_id = auth.device_id
    dialect = engine.dialect.name
    seqs = sorted(int(record["seq"]) for record in records)
    additions = Additions.of_records(device_id, records, now)  # before the write lock: all taken as new
    answer: dict = {}
    with raw_write_transaction(engine, dbapi_connection) as cursor:
        cursor.execute(hot_sql.for_dialect(hot_sql.DEVICE_STATE, dialect)
                       + hot_sql.LOCK_DEVICE_ROW.get(dialect, ""),
                       {"token_id": auth.token_id, "device_id": device_id})
        state = cursor.fetchone()
        if state is None or state[5] is not None:  # revoked since the token was looked up
            raise ApiError(401, REVOKED)
        last_seq, asset_tag, commune_insee, rotate_requested_at, pending, _revoked_at = state
        beyond = [f"/records/{index}/seq: more than {MAX_SEQ_ADVANCE} beyond this machine's last sequence "
                  f"number ({last_seq})" for index, record in enumerate(records)
                  if int(record["seq"]) > last_seq + MAX_SEQ_ADVANCE]
        if beyond:  # the seq space must stay usable by a reinstalled machine (issue 15): nothing stored
            raise ApiError(422, "the check-in is invalid; nothing was stored", beyond[:20])
        if seqs and seqs[0] <= last_seq:  # reaches back: some records may already be stored
            additions = additions.without(_already_stored(cursor, dialect, device_id, seqs[0], seqs[-1]),
                                          last_seq, raw_health_cutoff)
        additions.write(cursor, dialect)
        device = {"now": now, "last_seq": max(last_seq, seqs[-1] if seqs else 0), "device_id": device_id}
        if additions.snapshot is None:
            cursor.execute(hot_sql.for_dialect(hot_sql.UPDATE_DEVICE, dialect), device)
        else:
            cursor.execute(hot_sql.for_dialect(hot_sql.UPDATE_DEVICE_AND_SNAPSHOT, dialect),
                           {**device, **additions.snapshot})
        # The staff dashboard's read model (per-commune usage, recent crashes), from what is new only.
        apply_ingested(cursor, dialect, device_id, asset_tag, commune_insee, additions.counters, now)
        if pending:
            _promote_pending_token(cursor, dialect, device_id, auth.token_id, now)
        elif rotate_requested_at is not None:
            answer["token"] = _hand_out_pending_token(cursor, dialect, device_id, now)
    answer["acked"] = seqs
    return answer


def _promote_pending_token(cursor, dialect: str, device_id: int, token_id: int, now: float) -> None:
    """First use of a rotated token: it becomes the only valid one."""
    sql = hot_sql.for_dialect
    cursor.execute(sql(hot_sql.REVOKE_OTHER_TOKENS, dialect), {"now": now, "device_id": device_id, "token_id": token_id})
    cursor.execute(sql(hot_sql.CONFIRM_TOKEN, dialect), {"pending": False, "token_id": token_id})
    cursor.execute(sql(hot_sql.ROTATION_DONE, dialect), {"device_id": device_id})


def _hand_out_pending_token(cursor, dialect: str, device_id: int, now: float) -> str:
    """A new pending token (replacing any earlier pending one whose answer may have been lost)."""
    sql = hot_sql.for_dialect
    cursor.execute(sql(hot_sql.REVOKE_PENDING_TOKENS, dialect), {"now": now, "device_id": device_id, "pending": True})
    token = new_secret()
    cursor.execute(sql(hot_sql.INSERT_PENDING_TOKEN, dialect),
                   {"device_id": device_id, "digest": digest(token), "now": now, "pending": True})
    return token
