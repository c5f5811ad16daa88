"""A fresh PostgreSQL schema per test, on the server `./dev test` starts (KIOSK_TEST_POSTGRES_URL).

Importable from any test folder (tests/ is on sys.path through its conftest.py)."""

from __future__ import annotations

import os
import uuid
from contextlib import ExitStack, contextmanager
from urllib.parse import quote

import pytest

POSTGRES_URL = os.environ.get("KIOSK_TEST_POSTGRES_URL")


@contextmanager
def postgres_schema(prefix: str = "t"):
    """Yield a URL whose search_path selects a new, empty schema; the schema is dropped afterwards."""
    if not POSTGRES_URL:
        pytest.skip("KIOSK_TEST_POSTGRES_URL is unset (./dev test starts PostgreSQL and sets it)")
    from sqlalchemy import create_engine, text
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    try:
        with admin.begin() as connection:
            connection.execute(text(f"CREATE SCHEMA {schema}"))
        separator = "&" if "?" in POSTGRES_URL else "?"
        yield f"{POSTGRES_URL}{separator}options={quote(f'-csearch_path={schema}')}"
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    finally:
        admin.dispose()


@contextmanager
def migrated_store(kind: str, directory, prefix: str = "store"):
    """Yield an engine on a store migrated to the newest revision: ``kind`` "sqlite" (a file in
    ``directory``) or "postgres" (a fresh schema, see :func:`postgres_schema`)."""
    with ExitStack() as stack:
        url = (f"sqlite:///{directory / 'fleet.db'}" if kind == "sqlite"
               else stack.enter_context(postgres_schema(prefix)))
        yield stack.enter_context(_migrated_engine(url))


@contextmanager
def _migrated_engine(url: str):
    from provisioning.fleet.store.engine import make_engine
    from provisioning.fleet.store.migrate import upgrade

    upgrade(url)
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()
