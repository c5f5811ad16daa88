"""The store's migrations: one linear chain numbered in the order it runs, building exactly the tables the
store declares (its one MetaData) on SQLite and PostgreSQL; databases stamped with the old numbers
(0101, 0002, 0003 before the renumbering) are recognised by ``fleet db upgrade``."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from postgres_schemas import postgres_schema
from provisioning.fleet.store import metadata
from provisioning.fleet.store.engine import make_engine
from provisioning.fleet.store.migrate import alembic_config, current_revision, upgrade

HEAD = ScriptDirectory.from_config(alembic_config(None)).get_current_head()

KINDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@contextmanager
def empty_database(kind: str, directory):
    if kind == "sqlite":
        yield f"sqlite:///{directory / 'fleet.db'}"
        return
    with postgres_schema("store") as url:
        yield url


@contextmanager
def engine_of(url: str):
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def differences(engine: sa.Engine) -> list:
    with engine.connect() as connection:
        return compare_metadata(MigrationContext.configure(connection), metadata)


def test_the_revision_chain_is_linear_and_numbered_in_the_order_it_runs():
    with engine_of("sqlite://") as engine:
        script = ScriptDirectory.from_config(alembic_config(engine))
    assert len(script.get_bases()) == 1 and len(script.get_heads()) == 1
    revisions = list(reversed(list(script.walk_revisions())))  # base first
    assert all(not revision.is_branch_point and not revision.is_merge_point for revision in revisions)
    assert [revision.revision for revision in revisions] == [f"{n:04d}" for n in range(1, len(revisions) + 1)]
    for revision in revisions:  # the file name tells the revision
        assert revision.module.__file__.rsplit("/", 1)[-1].startswith(revision.revision + "_")


def test_the_store_declares_every_table_in_one_metadata():
    from provisioning.fleet.store import schema, staff_schema
    assert staff_schema.metadata is schema.metadata is metadata
    assert {"devices", "health_batches", "dash_users", "dash_usage_commune_daily"} <= set(metadata.tables)


@pytest.mark.parametrize("kind", KINDS)
def test_the_migrated_database_matches_the_declared_tables(kind, tmp_path):
    with empty_database(kind, tmp_path) as url:
        upgrade(url)
        with engine_of(url) as engine:
            assert differences(engine) == []
            assert set(sa.inspect(engine).get_table_names()) == set(metadata.tables) | {"alembic_version"}


def test_the_dashboard_revision_goes_down_and_up_again(tmp_path):
    url = f"sqlite:///{tmp_path / 'fleet.db'}"
    upgrade(url)
    with engine_of(url) as engine:
        command.downgrade(alembic_config(engine), "0001")
        assert not [name for name in sa.inspect(engine).get_table_names() if name.startswith("dash_")]
        command.upgrade(alembic_config(engine), "head")
        assert differences(engine) == []


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("old_stamp, built_up_to", [("0101", "0002"), ("0002", "0003"), ("0003", "0004")])
def test_fleet_db_upgrade_recognises_a_database_stamped_before_the_renumbering(kind, old_stamp, built_up_to, tmp_path):
    """A database built by the old chain up to an old revision has the schema of the same revision under
    its new number: build that, put the old stamp back, and upgrade as ``fleet db upgrade`` does."""
    with empty_database(kind, tmp_path) as url:
        with engine_of(url) as engine:
            command.upgrade(alembic_config(engine), built_up_to)
            with engine.begin() as connection:
                connection.execute(sa.text("UPDATE alembic_version SET version_num = :old"), {"old": old_stamp})
        upgrade(url)
        assert current_revision(url) == HEAD
        with engine_of(url) as engine:
            assert differences(engine) == []


def test_the_fleet_command_says_it_recognised_an_old_stamp(tmp_path, capsys):
    from provisioning.fleet.cli import main
    url = f"sqlite:///{tmp_path / 'fleet.db'}"
    with engine_of(url) as engine:
        command.upgrade(alembic_config(engine), "0002")
        with engine.begin() as connection:
            connection.execute(sa.text("UPDATE alembic_version SET version_num = '0101'"))
    assert main(["--database-url", url, "db", "upgrade"]) == 0
    out = capsys.readouterr().out
    assert "Révision 0101 de l'ancienne numérotation reconnue : c'est la révision 0002." in out
    assert f"Base à jour (révision {HEAD})." in out


@pytest.mark.parametrize("new_stamp", ["0002", "0003"])
def test_a_stamp_already_in_the_new_numbering_is_left_alone(new_stamp, tmp_path):
    url = f"sqlite:///{tmp_path / 'fleet.db'}"
    with engine_of(url) as engine:
        command.upgrade(alembic_config(engine), new_stamp)
    upgrade(url)
    assert current_revision(url) == HEAD
    with engine_of(url) as engine:
        assert differences(engine) == []


@pytest.mark.parametrize("kind", KINDS)
def test_revision_0007_backfills_the_late_deadline_and_the_monthly_usage_then_keeps_them(kind, tmp_path):
    """A store at 0006 holding machines and daily usage: 0007 computes every machine's late_at and the
    monthly counters from them; afterwards the triggers keep late_at whoever writes; the downgrade
    removes what 0007 added and keeps the data."""
    with empty_database(kind, tmp_path) as url:
        upgrade(url, "0006")
        with engine_of(url) as engine:
            with engine.begin() as conn:
                conn.exec_driver_sql("INSERT INTO communes (insee, name, expected_interval_s, created_at) VALUES "
                                     "('31042', 'Luchon', 86400, 0), ('65286', 'Lourdes', 300, 0)")
                conn.exec_driver_sql("INSERT INTO devices (asset_tag, commune_insee, enrolled_at, last_seen_at, last_seq) "
                                     "VALUES ('A-1', '31042', 0, 1000, 0), ('A-2', '65286', 0, 2000, 0), "
                                     "('A-3', '65286', 0, NULL, 0)")
                conn.exec_driver_sql("INSERT INTO dash_usage_commune_daily (metric, day, commune_insee, key, count) VALUES "
                                     "('sessions', '2026-01-31', '65286', '', 3), ('sessions', '2026-02-01', '65286', '', 4), "
                                     "('sessions', '2026-02-28', '65286', '', 5), ('tile_opened', '2026-02-03', '31042', 'caf', 2)")
            upgrade(url)
            with engine.begin() as conn:
                late = dict(conn.exec_driver_sql("SELECT asset_tag, late_at FROM devices").all())
                assert late == {"A-1": 1000 + 2 * 86400, "A-2": 2000 + 600, "A-3": None}
                monthly = {tuple(row[:4]): row[4] for row in conn.exec_driver_sql(
                    "SELECT metric, month, commune_insee, key, count FROM dash_usage_commune_monthly")}
                assert monthly == {("sessions", "2026-01", "65286", ""): 3, ("sessions", "2026-02", "65286", ""): 9,
                                   ("tile_opened", "2026-02", "31042", "caf"): 2}
                conn.exec_driver_sql("UPDATE devices SET last_seen_at = 5000 WHERE asset_tag = 'A-3'")
                conn.exec_driver_sql("UPDATE devices SET commune_insee = '31042' WHERE asset_tag = 'A-2'")
                conn.exec_driver_sql("UPDATE communes SET expected_interval_s = 3600 WHERE insee = '65286'")
                conn.exec_driver_sql("INSERT INTO devices (asset_tag, commune_insee, enrolled_at, last_seen_at, last_seq) "
                                     "VALUES ('A-4', '31042', 0, 7000, 0)")
                late = dict(conn.exec_driver_sql("SELECT asset_tag, late_at FROM devices").all())
                assert late == {"A-1": 1000 + 2 * 86400, "A-2": 2000 + 2 * 86400, "A-3": 5000 + 2 * 3600,
                                "A-4": 7000 + 2 * 86400}
            command.downgrade(alembic_config(engine), "0006")
            inspector = sa.inspect(engine)
            assert "late_at" not in {column["name"] for column in inspector.get_columns("devices")}
            assert "dash_usage_commune_monthly" not in inspector.get_table_names()
            with engine.connect() as conn:
                assert conn.exec_driver_sql("SELECT COUNT(*) FROM devices").scalar_one() == 4


CHECKIN_SETS_LATE_AT = "0015"  # the revision after which SQLite's trigger leaves a set late_at alone


@pytest.mark.parametrize("kind", KINDS)
def test_the_check_in_sets_the_deadline_itself_and_other_writers_still_get_it_computed(kind, tmp_path):
    """At head, the check-in's own UPDATE (hot_sql) sets late_at, and the trigger leaves it; an UPDATE of
    last_seen_at that does not set late_at still gets it computed. Downgraded to before the revision,
    both writers still end with the right deadline (the old trigger writes it in every case)."""
    from provisioning.fleet.store import hot_sql

    def check_both_writers(engine, last_seen: float, rows_written_by_checkin: int | None = None) -> None:
        with engine.begin() as conn:
            sqlite = engine.dialect.name == "sqlite"
            before = conn.exec_driver_sql("SELECT total_changes()").scalar_one() if sqlite else 0
            conn.exec_driver_sql(hot_sql.for_dialect(hot_sql.UPDATE_DEVICE, engine.dialect.name),
                                 {"now": last_seen, "last_seq": 5, "device_id": 1})
            if sqlite and rows_written_by_checkin is not None:  # the trigger's second write counts as a change
                assert conn.exec_driver_sql("SELECT total_changes()").scalar_one() - before == rows_written_by_checkin
            conn.exec_driver_sql(f"UPDATE devices SET last_seen_at = {last_seen + 50} WHERE id = 2")
            late = dict(conn.exec_driver_sql("SELECT asset_tag, late_at FROM devices").all())
        assert late == {"A-1": last_seen + 2 * 86400, "A-2": last_seen + 50 + 2 * 300}

    with empty_database(kind, tmp_path) as url:
        upgrade(url)
        with engine_of(url) as engine:
            with engine.begin() as conn:
                conn.exec_driver_sql("INSERT INTO communes (insee, name, expected_interval_s, created_at) VALUES "
                                     "('31042', 'Luchon', 86400, 0), ('65286', 'Lourdes', 300, 0)")
                conn.exec_driver_sql("INSERT INTO devices (id, asset_tag, commune_insee, enrolled_at, last_seen_at, "
                                     "last_seq) VALUES (1, 'A-1', '31042', 0, 1000, 0), (2, 'A-2', '65286', 0, 2000, 0)")
            check_both_writers(engine, 10_000, rows_written_by_checkin=1)
            command.downgrade(alembic_config(engine), f"{int(CHECKIN_SETS_LATE_AT) - 1:04d}")
            check_both_writers(engine, 20_000, rows_written_by_checkin=2)
            command.upgrade(alembic_config(engine), "head")
            check_both_writers(engine, 30_000, rows_written_by_checkin=1)


ONE_BTREE_ROLLUPS = "0017"  # the revision after which SQLite keeps the roll-ups in one B-tree each


def test_the_roll_ups_become_one_b_tree_each_and_keep_their_rows_both_ways(tmp_path):
    """SQLite: health_hourly, health_daily and usage_daily are WITHOUT ROWID tables at head (no rowid
    table beside the primary key's index), keep their rows and indexes through the rebuild, and go back
    to rowid tables when downgraded."""
    url = f"sqlite:///{tmp_path / 'fleet.db'}"
    tables = ("health_hourly", "health_daily", "usage_daily")

    def layout(engine) -> dict:
        with engine.connect() as conn:
            return {table: (conn.exec_driver_sql(f"SELECT sql FROM sqlite_master WHERE name = '{table}'")
                            .scalar_one().rstrip().endswith("WITHOUT ROWID"),
                            sorted(conn.exec_driver_sql(f"SELECT * FROM {table}").all()),
                            sorted(name for (name,) in conn.exec_driver_sql(
                                "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                                f"AND tbl_name = '{table}'")))
                    for table in tables}

    with engine_of(url) as engine:
        command.upgrade(alembic_config(engine), f"{int(ONE_BTREE_ROLLUPS) - 1:04d}")
        with engine.begin() as conn:
            conn.exec_driver_sql("INSERT INTO communes (insee, name, created_at) VALUES ('31042', 'Luchon', 0)")
            conn.exec_driver_sql("INSERT INTO devices (id, asset_tag, commune_insee, enrolled_at) "
                                 "VALUES (1, 'A-1', '31042', 0)")
            for table in ("health_hourly", "health_daily"):
                conn.exec_driver_sql(f"INSERT INTO {table} (device_id, period_start, samples, cpu_sum, cpu_n, "
                                     "cpu_max) VALUES (1, 3600, 4, 30.5, 4, 12.0), (1, 7200, 2, 3.0, 2, 2.0)")
            conn.exec_driver_sql("INSERT INTO usage_daily (device_id, day, metric, key, count) VALUES "
                                 "(1, '2026-11-27', 'kiosk_started', '', 3), (1, '2026-11-28', 'crash_recovered', '', 1)")
        before = layout(engine)
        assert not any(without_rowid for without_rowid, _rows, _indexes in before.values())
        command.upgrade(alembic_config(engine), "head")
        at_head = layout(engine)
        assert all(without_rowid for without_rowid, _rows, _indexes in at_head.values())
        assert {table: value[1:] for table, value in at_head.items()} == \
            {table: value[1:] for table, value in before.items()}
        assert differences(engine) == []
        command.downgrade(alembic_config(engine), f"{int(ONE_BTREE_ROLLUPS) - 1:04d}")
        assert layout(engine) == before
