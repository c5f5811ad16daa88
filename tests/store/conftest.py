"""Fixtures for the store's tests: ``store_engine``, a migrated, empty store on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest

from postgres_schemas import migrated_store


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_engine(request, tmp_path):
    with migrated_store(request.param, tmp_path, "store") as engine:
        yield engine
