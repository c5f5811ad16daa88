"""Folding the usage inbox into the dashboard's counters: exactly once with concurrent folds, before a
retention prune, and on the way back from migration 0018 (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time

import pytest
import sqlalchemy as sa
from alembic import command

from provisioning.fleet.store import readmodel
from provisioning.fleet.store.migrate import alembic_config
from provisioning.fleet.store.staff_schema import (
    usage_commune_daily, usage_commune_monthly, usage_fleet_daily, usage_inbox,
)


def today() -> str:
    return dt.datetime.now(dt.timezone.utc).date().isoformat()


def inbox_rows(engine) -> int:
    with engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(usage_inbox)).scalar_one()


def _add_to_inbox(engine, rows: list[tuple[str, list]]) -> None:
    with engine.begin() as conn:
        conn.execute(usage_inbox.insert(), [{"commune_insee": commune, "counters": json.dumps(counters),
                                             "received_at": time.time()} for commune, counters in rows])


def _sums(engine) -> dict:
    with engine.connect() as conn:
        return {table.name: {tuple(row[:-1]): row[-1] for row in conn.execute(sa.select(*table.c))}
                for table in (usage_fleet_daily, usage_commune_daily, usage_commune_monthly)}


@pytest.mark.parametrize("folders", [4])
def test_concurrent_folds_count_every_inbox_row_exactly_once(store_engine, folders):
    rows = [("31042" if index % 3 else "65286",
             [["2026-01-31" if index % 2 else "2026-02-01", "sessions", "", 1], ["2026-02-01", "tile_opened", "ameli", 2]])
            for index in range(1200)]
    _add_to_inbox(store_engine, rows)
    errors: list[BaseException] = []
    start = threading.Barrier(folders)

    def fold() -> None:
        try:
            start.wait()
            readmodel.fold_usage(store_engine)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=fold) for _ in range(folders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert inbox_rows(store_engine) == 0
    luchon = sum(1 for commune, _ in rows if commune == "31042")
    lourdes = len(rows) - luchon
    sums = _sums(store_engine)
    assert sums["dash_usage_fleet_daily"] == {("sessions", "2026-01-31", ""): 600, ("sessions", "2026-02-01", ""): 600,
                                              ("tile_opened", "2026-02-01", "ameli"): 2400}
    daily = sums["dash_usage_commune_daily"]
    assert sum(count for (metric, _day, commune, _key), count in daily.items()
               if metric == "sessions" and commune == "31042") == luchon
    assert daily[("tile_opened", "2026-02-01", "65286", "ameli")] == 2 * lourdes
    monthly = sums["dash_usage_commune_monthly"]
    assert monthly[("sessions", "2026-01", "31042", "")] + monthly[("sessions", "2026-02", "31042", "")] == luchon
    assert monthly[("tile_opened", "2026-02", "65286", "ameli")] == 2 * lourdes


def test_retention_folds_the_inbox_first_and_prunes_what_it_held(store_engine):
    from provisioning.fleet.settings import Settings
    from provisioning.fleet.store.retention import prune
    old, recent = "2020-03-01", today()
    _add_to_inbox(store_engine, [("31042", [[old, "sessions", "", 9], [recent, "sessions", "", 4]])])
    removed = prune(store_engine, Settings(testing=True, usage_retention_days=30))
    assert removed["dash_usage_commune_daily"] == 1 and removed["dash_usage_fleet_daily"] == 1
    assert inbox_rows(store_engine) == 0
    sums = _sums(store_engine)
    assert sums["dash_usage_fleet_daily"] == {("sessions", recent, ""): 4}


def test_going_back_from_the_inbox_folds_what_it_still_holds(store_engine):
    _add_to_inbox(store_engine, [("31042", [["2026-02-01", "sessions", "", 5]]),
                                 ("31042", [["2026-02-01", "sessions", "", 2], ["2026-02-02", "pages_printed", "", 7]])])
    command.downgrade(alembic_config(store_engine), "0017")
    with store_engine.connect() as conn:
        assert "dash_usage_inbox" not in sa.inspect(conn).get_table_names()
    assert _sums(store_engine)["dash_usage_commune_daily"] == {
        ("sessions", "2026-02-01", "31042", ""): 7, ("pages_printed", "2026-02-02", "31042", ""): 7}
    command.upgrade(alembic_config(store_engine), "head")
    assert inbox_rows(store_engine) == 0
