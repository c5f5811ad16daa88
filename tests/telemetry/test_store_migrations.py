"""Migration 0004 (checkin_storage) on a store holding data, on SQLite and PostgreSQL: raw samples move to
``health_batches`` (one row per device and day), the health snapshot moves to the ``devices`` row, and
the downgrade gives back what was there."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import text

from postgres_schemas import postgres_schema
from provisioning.fleet.store import raw_health
from provisioning.fleet.store.engine import make_engine
from provisioning.fleet.store.migrate import alembic_config

DAY = 86400
T0 = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC


@pytest.fixture(params=["sqlite", "postgres"])
def store_at_0003(request, tmp_path):
    def migrated(url):
        engine = make_engine(url)
        command.upgrade(alembic_config(engine), "0003")
        return engine

    if request.param == "sqlite":
        engine = migrated(f"sqlite:///{tmp_path / 'fleet.db'}")
        yield engine
        engine.dispose()
        return
    with postgres_schema("m") as url:
        engine = migrated(url)
        yield engine
        engine.dispose()


def _samples_at_0003():
    # Device 1: three samples over two UTC days; device 2: one sample, fields left empty.
    return [(1, 1, T0, 45.0, True), (1, 2, T0 + 60, 46.5, None), (1, 5, T0 + DAY, 47.0, False),
            (2, 3, T0 + 30, None, None)]


def test_upgrade_moves_samples_and_snapshot_and_downgrade_restores_them(store_at_0003):
    engine = store_at_0003
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO communes (insee, name, expected_interval_s, created_at) "
                                "VALUES ('65059', 'Bagnères', 3600, 0)"))
        for device_id in (1, 2):
            connection.execute(text("INSERT INTO devices (id, asset_tag, commune_insee, enrolled_at, last_seq) "
                                    "VALUES (:id, :tag, '65059', 0, 5)"), {"id": device_id, "tag": f"AB-{device_id}"})
        for device_id, seq, at, cpu, plugged in _samples_at_0003():
            connection.execute(text("INSERT INTO health_samples (device_id, seq, at, received_at, cpu_percent, "
                                    "battery_plugged) VALUES (:d, :s, :at, :r, :cpu, :plugged)"),
                               {"d": device_id, "s": seq, "at": at, "r": at + 5, "cpu": cpu, "plugged": plugged})
        connection.execute(text("INSERT INTO usage_reports (device_id, seq, at, day, received_at) "
                                "VALUES (1, 4, :at, '2023-11-14', :at)"), {"at": T0})
        connection.execute(text("INSERT INTO dash_machine_assets (asset_tag, lifecycle_state, crashes_7d, health_at, "
                                "disk_used_percent, uptime_s) VALUES ('AB-1', 'deployed', 2, :at, 91.5, 3600)"),
                           {"at": T0 + DAY})

    command.upgrade(alembic_config(engine), "head")
    with engine.connect() as connection:
        samples = raw_health.stored_samples(connection)
        rows = connection.execute(text("SELECT device_id, first_seq, last_seq FROM health_batches "
                                       "ORDER BY device_id, last_seq")).all()
        snapshot = connection.execute(text("SELECT health_at, disk_used_percent, uptime_s FROM devices "
                                           "WHERE asset_tag = 'AB-1'")).one()
        crashes = connection.execute(text("SELECT crashes_7d FROM dash_machine_assets")).scalar_one()
        ledger = connection.execute(text("SELECT device_id, seq FROM usage_reports")).all()
    assert [(s["device_id"], s["seq"], s["at"], s["cpu_percent"], s["battery_plugged"]) for s in samples] == \
        [(1, 1, T0, 45.0, True), (1, 2, T0 + 60, 46.5, None), (1, 5, T0 + DAY, 47.0, False), (2, 3, T0 + 30, None, None)]
    assert [tuple(row) for row in rows] == [(1, 1, 2), (1, 5, 5), (2, 3, 3)]  # one row per device and day
    assert tuple(snapshot) == (T0 + DAY, 91.5, 3600.0) and crashes == 2
    assert [tuple(row) for row in ledger] == [(1, 4)]

    command.downgrade(alembic_config(engine), "0003")
    with engine.connect() as connection:
        restored = connection.execute(text("SELECT device_id, seq, at, received_at, cpu_percent, battery_plugged "
                                           "FROM health_samples ORDER BY device_id, seq")).all()
        asset = connection.execute(text("SELECT health_at, disk_used_percent, uptime_s FROM dash_machine_assets")).one()
        ledger = connection.execute(text("SELECT device_id, seq FROM usage_reports")).all()
    assert [(d, s, at, cpu, None if plugged is None else bool(plugged)) for d, s, at, _r, cpu, plugged in restored] == \
        [(d, s, at, cpu, plugged) for d, s, at, cpu, plugged in _samples_at_0003()]
    assert tuple(asset) == (T0 + DAY, 91.5, 3600.0)
    assert [tuple(row) for row in ledger] == [(1, 4)]
