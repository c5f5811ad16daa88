"""Idle kiosks' assistance polls read the relay's memory, not the store (issue 13): during polls with no
request, nothing is written (no write transaction, no INSERT/UPDATE/DELETE, and the database itself
records no change) and the reads of ``assist_sessions`` are shared by all the kiosks polling; the
store is written when something changes (a request handed out), which proves the counters can fail."""

from __future__ import annotations

import threading
import time

import sqlalchemy as sa
from sqlalchemy import event

from dashboard_helpers import csrf_token

KIOSKS = ("LUCH-001", "LUCH-002", "LOUR-001")
POLL_WAIT_S = 2
POLLS_EACH = 2


class StoreWatch:
    """What the app's engine sends: write transactions and writing statements, and reads of the
    sessions table; plus the database's own count of committed changes, read from outside the app."""

    def __init__(self, engine: sa.Engine, url: str) -> None:
        self.engine, self.writes, self.session_reads = engine, [], 0
        self.observer = sa.create_engine(url, poolclass=sa.pool.NullPool)
        self.outside = self.observer.connect()  # SQLite's data_version is per connection: keep this one
        event.listen(engine, "begin", self._begin)
        event.listen(engine, "before_cursor_execute", self._statement)

    def _begin(self, connection) -> None:
        if connection.get_execution_options().get("write", False):
            self.writes.append("write transaction")

    def _statement(self, _conn, _cursor, statement: str, *_args) -> None:
        words = statement.lstrip().upper()
        if words.startswith(("INSERT", "UPDATE", "DELETE", "BEGIN IMMEDIATE")):
            self.writes.append(statement.split("\n")[0][:80])
        elif words.startswith("SELECT") and "assist_sessions" in statement:
            self.session_reads += 1

    def database_changes(self):
        """What the database itself says of its changes, from an outside connection. SQLite:
        data_version (it moves when another connection commits a change). PostgreSQL: the newest
        transaction id that created, changed, locked or deleted a row of any table of this schema."""
        if self.observer.dialect.name == "sqlite":
            value = self.outside.exec_driver_sql("PRAGMA data_version").scalar_one()
        else:
            tables = self.outside.exec_driver_sql("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()").scalars().all()
            value = self.outside.exec_driver_sql(" UNION ALL ".join(
                f'SELECT max(xmin::text::bigint), max(xmax::text::bigint) FROM "{table}"' for table in tables)).all()
            value = (max(row[0] or 0 for row in value), max(row[1] or 0 for row in value))
        self.outside.rollback()
        return value

    def close(self) -> None:
        event.remove(self.engine, "begin", self._begin)
        event.remove(self.engine, "before_cursor_execute", self._statement)
        self.outside.close()
        self.observer.dispose()


def poll(fleet, tag: str, wait_s: float):
    answer = fleet.app.test_client().get(f"/api/v1/assist/poll?wait={wait_s:g}",
                                         headers={"Authorization": f"Bearer {fleet.tokens[tag]}"})
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["assist"]


def test_idle_polls_write_nothing_and_share_their_reads(fresh):
    fleet = fresh
    engine = fleet.app.extensions["fleet_engine"]
    poll(fleet, "LUCH-001", 0)  # the relay's memory of waiting requests, read once
    watch = StoreWatch(engine, fleet.url)
    try:
        before = watch.database_changes()
        results, started = [], time.monotonic()

        def kiosk(tag: str) -> None:
            for _ in range(POLLS_EACH):
                results.append(poll(fleet, tag, POLL_WAIT_S))
        threads = [threading.Thread(target=kiosk, args=(tag,)) for tag in KIOSKS]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        elapsed = time.monotonic() - started
        assert results == [None] * (len(KIOSKS) * POLLS_EACH), "no request: nothing handed out"
        assert watch.writes == [], f"idle polls wrote to the store: {watch.writes}"
        after_idle = watch.database_changes()
        assert after_idle == before, "the database recorded a change during idle polls"
        # Each kiosk looks about once a second; the store is read about once a second for all of them.
        looks = len(KIOSKS) * elapsed
        assert watch.session_reads <= elapsed + 2 < looks, (watch.session_reads, elapsed)

        # A mediator asks: the next poll hands the request out, and that is written.
        staff = fleet.client("staff")
        page = staff.get("/tableau/machines/LUCH-001").get_data(as_text=True)
        assert staff.post("/tableau/machines/LUCH-001/assistance", data={
            "csrf_token": csrf_token(page), "name": "Claire", "title": "médiatrice"}).status_code == 302
        watch.writes.clear()
        offer = poll(fleet, "LUCH-001", POLL_WAIT_S)
        assert offer is not None and offer["mediator"] == "Claire" and offer["key"]
        assert "write transaction" in watch.writes and any(w.upper().startswith("UPDATE") for w in watch.writes)
        assert watch.database_changes() != after_idle
        # Handed out and not answered yet: polling on writes nothing more.
        watch.writes.clear()
        assert poll(fleet, "LUCH-001", 1) is None
        assert watch.writes == []
    finally:
        watch.close()
