"""Fixtures for the store's tests: ``store_engine``, a migrated, empty store on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest

from postgres_schemas import postgres_schema


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_engine(request, tmp_path):
    from provisioning.fleet.store.engine import make_engine
    from provisioning.fleet.store.migrate import upgrade

    def migrated(url):
        upgrade(url)
        engine = make_engine(url)
        yield engine
        engine.dispose()

    if request.param == "sqlite":
        yield from migrated(f"sqlite:///{tmp_path / 'fleet.db'}")
        return
    with postgres_schema("store") as url:
        yield from migrated(url)
