"""One bad record never blocks the records after it: the real agent against the real server (gunicorn) over
loopback, on SQLite and PostgreSQL. The server refuses the whole check-in (422, nothing stored) naming each
bad record; the agent sets those aside in its quarantine, counts them, and sends the others."""

from __future__ import annotations

import json
import time
from collections import Counter

from sqlalchemy import func, select

from telemetry_helpers import new_code, stored_counts, write_agent_settings
from kiosk.agent.clock import FakeClock
from kiosk.agent.runner import Agent
from kiosk.agent.settings import load_agent_settings
from provisioning.fleet.store import raw_health
from provisioning.fleet.store.readmodel import fold_usage
from provisioning.fleet.store.staff_schema import usage_commune_daily


def test_bad_records_are_quarantined_and_every_good_one_arrives(fleet_server, engine, tmp_path, caplog):
    server = fleet_server()
    agent = Agent(load_agent_settings(write_agent_settings(tmp_path, server.url, new_code(engine))),
                  clock=FakeClock(time.time()))
    try:
        assert agent._enrol()
        spool, now = agent.spool, time.time()
        today = time.strftime("%Y-%m-%d")
        spool.db.execute("BEGIN")
        good = Counter()
        expected_health = 0
        # 1200 records (three batches of 500): the bad ones sit among good ones, in the first and last batch.
        bad_at = {3: ("inventory", {"serial": "CZC\x001234", "vendor": "Dell"}, None),
                  480: ("inventory", {"kiosk_version": "1.0.\ud800"}, None),
                  481: ("usage", {"day": "2026-09-31", "counters": [["sessions", "", 5]]}, "2026-09-31"),
                  1100: ("usage", {"day": today, "counters": [["tile_opened", "Not A Tile", 1]]}, today)}
        for index in range(1200):
            if index in bad_at:
                kind, data, day = bad_at[index]
                spool._insert(kind, now - 1200 + index, data, day=day)
            elif index % 10 == 0:
                spool._insert("usage", now - 1200 + index, {"day": today, "counters": [["pages_printed", "", 2]]},
                              day=today)
                good[("pages_printed", "")] += 2
            else:
                spool._insert("health", now - 1200 + index, {"cpu_percent": 5.0})
                expected_health += 1
        spool.db.execute("COMMIT")
        offered = spool.pending()

        assert agent.upload() is True, "the spool must drain despite the bad records"
        assert spool.pending() == 0
        assert spool.quarantined() == len(bad_at)
        kept = spool.db.execute("SELECT type, body, reasons FROM quarantine ORDER BY seq").fetchall()
        assert [row[0] for row in kept] == [bad_at[i][0] for i in sorted(bad_at)]
        reasons = [json.loads(row[2]) for row in kept]
        assert "serial" in reasons[0][0] and "NUL" in reasons[0][0]
        assert "kiosk_version" in reasons[1][0]
        assert "2026-09-31" in reasons[2][0] and "calendar" in reasons[2][0]
        assert "counters/0/1" in reasons[3][0]
        assert any("set aside in quarantine" in record.getMessage() for record in caplog.records)

        counts = stored_counts(engine)
        assert counts["usage_reports"] == sum(good.values()) // 2
        assert counts["inventory_reports"] == 1  # the enrolment's own inventory only
        fold_usage(engine)  # what the usage pages do before they read
        with engine.connect() as conn:
            printed = conn.execute(select(func.sum(usage_commune_daily.c.count)).where(
                usage_commune_daily.c.metric == "pages_printed")).scalar_one()
            sessions = conn.execute(select(func.count()).select_from(usage_commune_daily).where(
                usage_commune_daily.c.metric == "sessions")).scalar_one()
        assert int(printed) == good[("pages_printed", "")]   # counted once each, none lost
        assert sessions == 0                                 # nothing of the refused day
        assert offered == 1200 + 1
        with engine.connect() as conn:
            assert len(raw_health.stored_seqs(conn)) == expected_health

        # Nothing is retried: the next upload sends nothing and quarantines nothing more.
        assert agent.upload() is True and spool.quarantined() == len(bad_at)
    finally:
        agent.close()
