"""The usage inbox seen from the dashboard: a check-in appends its counters, and every usage page and export
counts them at once (SQLite and PostgreSQL); when a check-in worker folds (tests/store/test_usage_fold.py
folds concurrently)."""

from __future__ import annotations

import csv
import io

import sqlalchemy as sa

from dashboard_helpers import LUCHON, checkin, today, usage
from provisioning.fleet.checkin_endpoint import CheckinEndpoint
from provisioning.fleet.store import readmodel
from provisioning.fleet.store.staff_schema import usage_fleet_daily, usage_inbox

TILE = "essai-boite-de-reception"


class NeverFolds(readmodel.FoldSchedule):
    """A check-in worker that leaves every fold to the readers."""

    def due(self, request_started: float) -> bool:
        return False


def endpoint_of(app) -> CheckinEndpoint:
    layer = app.wsgi_app
    while not isinstance(layer, CheckinEndpoint):
        layer = layer.app  # werkzeug's ProxyFix keeps the application it wraps as .app
    return layer


def inbox_rows(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(usage_inbox)).scalar_one()


def tile_count(client, commune: str | None = None) -> str | None:
    query = f"?commune={commune}" if commune else ""
    text = client.get(f"/tableau/export/usage/ouvertures-par-tuile.csv{query}").get_data().decode("utf-8")
    for row in csv.reader(io.StringIO(text[1:]), delimiter=";"):
        if any(TILE in cell for cell in row):
            return row[-1]
    return None


def test_checkins_wait_in_the_inbox_and_every_usage_page_and_export_counts_them_at_once(fresh):
    engine = fresh.app.extensions["fleet_engine"]
    readmodel.fold_usage(engine)  # what the seeding's check-ins left
    endpoint_of(fresh.app).usage_folding = NeverFolds()
    token = fresh.tokens["LUCH-001"]
    for seq in (501, 502, 503):
        checkin(fresh.app, token, [usage(seq, today(), [["tile_opened", TILE, 19], ["sessions", "", 1]])])
    assert inbox_rows(engine) == 3  # the check-ins did not touch the dashboard's counters
    with engine.connect() as conn:
        assert conn.execute(sa.select(usage_fleet_daily.c.count).where(usage_fleet_daily.c.key == TILE)).first() is None

    client = fresh.client("staff")
    assert tile_count(client) == "57"
    assert tile_count(client, LUCHON) == "57"
    assert inbox_rows(engine) == 0
    page = client.get("/tableau/usage").get_data(as_text=True)
    assert TILE in page and "57" in page
    # A replayed check-in is acknowledged and adds nothing, to the inbox or to the counters.
    checkin(fresh.app, token, [usage(503, today(), [["tile_opened", TILE, 19], ["sessions", "", 1]])])
    assert inbox_rows(engine) == 0 and tile_count(client) == "57"


def test_a_busy_worker_folds_about_once_a_second_and_after_a_quiet_moment_at_once():
    now = [100.0]
    schedule = readmodel.FoldSchedule(every_s=1.0, quiet_s=0.25, clock=lambda: now[0])
    assert schedule.due(now[0])                       # the first check-in of the process
    folds = 0
    for _ in range(100):                              # back-to-back check-ins, 2 ms each
        started = now[0]
        now[0] += 0.002
        folds += schedule.due(started)
    assert folds == 0                                 # 0.2 s of check-ins: no fold yet
    for _ in range(500):
        started = now[0]
        now[0] += 0.002
        folds += schedule.due(started)
    assert folds == 1                                 # past one second since the last fold
    now[0] += 0.3                                     # a quiet moment, then one check-in
    started = now[0]
    now[0] += 0.002
    assert schedule.due(started)
