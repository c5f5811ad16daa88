"""The dashboard's Alembic revision builds exactly the tables declared in dashboard/tables.py, on top of
the store's, and goes down cleanly."""

from __future__ import annotations

import pytest

from dashboard_helpers import database


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_the_dashboard_migration_builds_exactly_the_declared_tables(kind, tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext
    from provisioning.fleet.store.staff_schema import metadata
    from provisioning.fleet.store.engine import make_engine
    with database(kind, tmp_path) as url:
        engine = make_engine(url)
        try:
            with engine.connect() as connection:
                differences = compare_metadata(MigrationContext.configure(connection), metadata)
            ours = [d for d in differences if "dash_" in repr(d)]
            assert ours == []
        finally:
            engine.dispose()


def test_the_dashboard_migration_goes_down_and_up_again(tmp_path):
    import sqlalchemy as sa
    from alembic import command
    from provisioning.fleet.store.engine import make_engine
    from provisioning.fleet.store.migrate import alembic_config, upgrade
    url = f"sqlite:///{tmp_path / 'fleet.db'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        command.downgrade(alembic_config(engine), "0001")
        assert not [name for name in sa.inspect(engine).get_table_names() if name.startswith("dash_")]
        command.upgrade(alembic_config(engine), "head")
        assert "dash_users" in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()
