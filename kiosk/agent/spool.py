"""The agent's local spool: SQLite in WAL mode with synchronous=FULL, so a power cut loses nothing
that was recorded, and a half-written record never exists (each change is one transaction).

Every record gets a strictly increasing sequence number (``INTEGER PRIMARY KEY AUTOINCREMENT`` never
reuses a number, even after deletes). Records leave the spool only once the server acknowledged them.

Quota: when the spool grows past its quota, raw health samples are thinned first (every other one of
the oldest half), then usage records of the same day are merged into one daily total — only records
never offered to the server, so a batch the server may already hold is never counted twice.

Quarantine: a record the server refuses as invalid (HTTP 422 naming it) would otherwise block every record
after it forever. It is moved, in one transaction, to the ``quarantine`` table with the server's reasons
(the newest QUARANTINE_KEPT are kept there for a volunteer to read), counted in ``meta``
(``quarantined_records``), and the records after it go on.

Call-back requests (issue 13) are their own record kind, in the ``callbacks`` table: they go to their own
endpoint, one by one, are never thinned, merged or quarantined (they hold a resident's name and phone),
and are deleted once the server has them. ``secure_delete`` overwrites deleted rows with zeros and a
checkpoint then empties the WAL, so nothing of a delivered request stays in the files.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
import time
from collections import Counter
from pathlib import Path
from typing import Iterable

from kiosk.agent.collectors.usage import as_record_data, count_events, local_day
from kiosk.events import Event

log = logging.getLogger("kiosk.agent")

SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL CHECK (type IN ('health', 'usage', 'inventory')),
    at REAL NOT NULL,
    day TEXT,
    body TEXT NOT NULL,
    attempted INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS records_type ON records (type, seq);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS taken_batches (digest TEXT PRIMARY KEY, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS quarantine (
    seq INTEGER PRIMARY KEY,
    type TEXT NOT NULL,
    at REAL NOT NULL,
    body TEXT NOT NULL,
    reasons TEXT NOT NULL,
    quarantined_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS callbacks (
    request_id TEXT PRIMARY KEY,
    at REAL NOT NULL,
    body TEXT NOT NULL
);
"""
TAKEN_BATCH_MEMORY_S = 30 * 86400
QUARANTINE_KEPT = 1000


class Spool:
    def __init__(self, path: str | Path, quota_bytes: int = 50 * 1024 * 1024) -> None:
        self.path = Path(path)
        self.quota_bytes = quota_bytes
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.execute("PRAGMA secure_delete=ON")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    # -- one transaction per change ---------------------------------------------------------------
    def _begin(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def _insert(self, kind: str, at: float, data: dict, day: str | None = None) -> int:
        cursor = self.db.execute(
            "INSERT INTO records (type, at, day, body) VALUES (?, ?, ?, ?)",
            (kind, at, day, json.dumps(data, separators=(",", ":"), sort_keys=True)))
        return cursor.lastrowid

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def _set_meta(self, key: str, value) -> None:
        self.db.execute("INSERT INTO meta (key, value) VALUES (?, ?) "
                        "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, str(value)))

    def set_meta(self, key: str, value) -> None:
        self._set_meta(key, value)

    # -- recording ---------------------------------------------------------------------------------
    def add_health(self, at: float, sample: dict) -> int:
        """Store a sample with the restarts counted since the previous one and the last session time."""
        self._begin()
        try:
            sample = dict(sample)
            sample["kiosk_restarts"] = int(self.get_meta("restarts_since_sample", "0"))
            last_session = self.get_meta("last_session_at")
            if last_session is not None:
                sample["last_session_at"] = float(last_session)
            seq = self._insert("health", at, sample)
            self._set_meta("restarts_since_sample", 0)
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return seq

    def add_inventory_if_changed(self, at: float, inventory: dict, digest: str) -> int | None:
        if self.get_meta("inventory_digest") == digest:
            return None
        self._begin()
        try:
            seq = self._insert("inventory", at, inventory)
            self._set_meta("inventory_digest", digest)
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return seq

    def forget_inventory(self) -> None:
        """After a (re-)enrolment the server must receive the inventory again."""
        self.db.execute("DELETE FROM meta WHERE key = 'inventory_digest'")

    def store_events(self, events: list[Event]) -> None:
        """The ``store`` callback of :meth:`kiosk.events.EventLog.take`: one transaction; a batch handed
        over twice (the agent died before the events file was removed) is recognised and counted once."""
        digest = hashlib.sha256("\n".join(event.to_json() for event in events).encode()).hexdigest()
        days, side = count_events(events)
        self._begin()
        try:
            if self.db.execute("SELECT 1 FROM taken_batches WHERE digest = ?", (digest,)).fetchone():
                self.db.execute("ROLLBACK")
                log.info("an event batch was handed over twice; counted once")
                return
            newest = max(event.at for event in events)
            self.db.execute("INSERT INTO taken_batches (digest, at) VALUES (?, ?)", (digest, newest))
            self.db.execute("DELETE FROM taken_batches WHERE at < ?", (newest - TAKEN_BATCH_MEMORY_S,))
            for day, counters in sorted(days.items()):
                at = max(event.at for event in events if local_day(event.at) == day)
                self._insert("usage", at, as_record_data(day, counters), day=day)
            if side["kiosk_restarts"]:
                restarts = int(self.get_meta("restarts_since_sample", "0")) + side["kiosk_restarts"]
                self._set_meta("restarts_since_sample", restarts)
            if side["last_session_at"] is not None:
                previous = float(self.get_meta("last_session_at", "0"))
                self._set_meta("last_session_at", max(previous, side["last_session_at"]))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    # -- call-back requests ------------------------------------------------------------------------
    def add_callback(self, request: dict) -> bool:
        """Keep a request until delivered; the same request id twice is kept once."""
        cursor = self.db.execute(
            "INSERT OR IGNORE INTO callbacks (request_id, at, body) VALUES (?, ?, ?)",
            (request["request_id"], float(request["made_at"]),
             json.dumps(request, ensure_ascii=False, separators=(",", ":"), sort_keys=True)))
        return cursor.rowcount == 1

    def callbacks(self) -> list[dict]:
        return [json.loads(body) for (body,) in self.db.execute("SELECT body FROM callbacks ORDER BY at, request_id")]

    def forget_callback(self, request_id: str) -> None:
        """Delete a delivered (or refused) request, overwritten, and empty the WAL of it."""
        self.db.execute("DELETE FROM callbacks WHERE request_id = ?", (request_id,))
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def forget_callbacks_before(self, oldest: float) -> int:
        """Delete requests made before ``oldest`` that never reached the server (a mediator cannot call
        back weeks later, and a resident's number must not wait on the kiosk forever)."""
        removed = self.db.execute("DELETE FROM callbacks WHERE at < ?", (oldest,)).rowcount
        if removed:
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return removed

    # -- uploading ---------------------------------------------------------------------------------
    def next_batch(self, limit: int) -> list[dict]:
        """The oldest records, marked as offered (they will never be merged from now on)."""
        rows = self.db.execute(
            "SELECT seq, type, at, body FROM records ORDER BY seq LIMIT ?", (limit,)).fetchall()
        if rows:
            self.db.execute("UPDATE records SET attempted = 1 WHERE seq <= ? AND attempted = 0", (rows[-1][0],))
        return [{"seq": seq, "type": kind, "at": at, "data": json.loads(body)} for seq, kind, at, body in rows]

    def delete(self, seqs: Iterable[int]) -> int:
        seqs = list(seqs)
        self._begin()
        try:
            removed = 0
            for start in range(0, len(seqs), 500):
                chunk = seqs[start:start + 500]
                removed += self.db.execute(
                    f"DELETE FROM records WHERE seq IN ({','.join('?' * len(chunk))})", chunk).rowcount
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return removed

    def quarantine(self, reasons: dict[int, list[str]], now: float) -> int:
        """Move the records ``seq -> server's reasons`` out of the upload queue; returns how many moved."""
        self._begin()
        try:
            moved = 0
            for seq, why in sorted(reasons.items()):
                moved += self.db.execute(
                    "INSERT OR REPLACE INTO quarantine (seq, type, at, body, reasons, quarantined_at) "
                    "SELECT seq, type, at, body, ?, ? FROM records WHERE seq = ?",
                    (json.dumps(why), now, seq)).rowcount
                self.db.execute("DELETE FROM records WHERE seq = ?", (seq,))
            self._set_meta("quarantined_records", int(self.get_meta("quarantined_records", "0")) + moved)
            self.db.execute("DELETE FROM quarantine WHERE seq NOT IN "
                            "(SELECT seq FROM quarantine ORDER BY seq DESC LIMIT ?)", (QUARANTINE_KEPT,))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return moved

    def quarantined(self) -> int:
        """How many records the server refused as invalid, since the spool was created."""
        return int(self.get_meta("quarantined_records", "0"))

    def pending(self) -> int:
        return self.db.execute("SELECT count(*) FROM records").fetchone()[0]

    def count(self, kind: str) -> int:
        return self.db.execute("SELECT count(*) FROM records WHERE type = ?", (kind,)).fetchone()[0]

    # -- quota -------------------------------------------------------------------------------------
    def used_bytes(self) -> int:
        pages = self.db.execute("PRAGMA page_count").fetchone()[0]
        free = self.db.execute("PRAGMA freelist_count").fetchone()[0]
        size = self.db.execute("PRAGMA page_size").fetchone()[0]
        return (pages - free) * size

    def _thin_health(self) -> int:
        seqs = [row[0] for row in self.db.execute("SELECT seq FROM records WHERE type = 'health' ORDER BY seq")]
        if len(seqs) < 4:
            return 0
        doomed = seqs[: len(seqs) // 2][1::2]
        return self.delete(doomed)

    def _merge_usage(self) -> int:
        """Merge never-offered usage records of the same day into one; returns records removed."""
        rows = self.db.execute(
            "SELECT seq, day, at, body FROM records WHERE type = 'usage' AND attempted = 0 ORDER BY seq").fetchall()
        by_day: dict[str, list] = {}
        for row in rows:
            by_day.setdefault(row[1], []).append(row)
        removed = 0
        for day, day_rows in by_day.items():
            if len(day_rows) < 2:
                continue
            total: Counter = Counter()
            for _seq, _day, _at, body in day_rows:
                for metric, key, count in json.loads(body)["counters"]:
                    total[(metric, key)] += count
            self._begin()
            try:
                seqs = [row[0] for row in day_rows]
                self.db.execute(f"DELETE FROM records WHERE seq IN ({','.join('?' * len(seqs))}) AND attempted = 0",
                                seqs)
                self._insert("usage", max(row[2] for row in day_rows), as_record_data(day, total), day=day)
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            removed += len(day_rows) - 1
        return removed

    def _drop_old_inventories(self) -> int:
        latest = self.db.execute("SELECT max(seq) FROM records WHERE type = 'inventory'").fetchone()[0]
        if latest is None:
            return 0
        return self.db.execute("DELETE FROM records WHERE type = 'inventory' AND seq < ?", (latest,)).rowcount

    def enforce_quota(self) -> dict[str, int]:
        """Bring the spool under its quota; usage counts are never lost, only merged."""
        done = Counter()
        for step, action in (("health_thinned", self._thin_health), ("usage_merged", self._merge_usage),
                             ("inventory_dropped", self._drop_old_inventories)):
            while self.used_bytes() > self.quota_bytes:
                removed = action()
                done[step] += removed
                if not removed or step != "health_thinned":
                    break
        if self.used_bytes() > self.quota_bytes:
            while self.used_bytes() > self.quota_bytes:
                oldest = [row[0] for row in self.db.execute(
                    "SELECT seq FROM records WHERE type = 'health' ORDER BY seq LIMIT 100")]
                if not oldest:
                    break
                done["health_dropped"] += self.delete(oldest)
        if done:
            log.warning("spool over its quota (%d bytes): %s", self.quota_bytes, dict(done))
        return dict(done)
