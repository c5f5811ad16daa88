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
