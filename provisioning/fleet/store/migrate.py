"""Apply the Alembic migrations shipped with the store (``fleet db upgrade``).

The revisions were renumbered in the order they run: 0101 (dashboard) became 0002, 0002
(health_samples_device_at) became 0003, 0003 (checkin_storage) became 0004. A database stamped before
that is recognised and its stamp rewritten before upgrading (:func:`translate_old_revision`). An old
``0002`` or ``0003`` stamp names another revision today, so which numbering a stamp uses is told by
the schema it stands for.
"""

from __future__ import annotations

from importlib import resources

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

from provisioning.fleet.store.engine import make_engine, write_transaction


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(resources.files("provisioning.fleet.store") / "migrations"))
    config.attributes["engine"] = engine
    return config


def _old_numbering(connection: sa.Connection, stamp: str) -> str | None:
    """The new id of an old-numbered ``stamp``, or None when the stamp already uses the new numbering."""
    if stamp == "0101":
        return "0002"
    inspector = sa.inspect(connection)
    tables = set(inspector.get_table_names())
    if stamp == "0002":  # old 0002 = new 0003, which indexes health_samples by (device_id, at)
        indexes = {index["name"] for index in inspector.get_indexes("health_samples")} if "health_samples" in tables else set()
        return "0003" if "ix_health_samples_device_at" in indexes else None
    if stamp == "0003":  # old 0003 = new 0004, which creates health_batches
        return "0004" if "health_batches" in tables else None
    return None


def translate_old_revision(engine: Engine) -> tuple[str, str] | None:
    """Rewrite an old-numbered stamp in ``alembic_version``; returns (old, new) when it did."""
    with write_transaction(engine) as connection:
        stamp = MigrationContext.configure(connection).get_current_revision()
        new = _old_numbering(connection, stamp) if stamp else None
        if new is None:
            return None
        connection.execute(sa.text("UPDATE alembic_version SET version_num = :new WHERE version_num = :old"),
                           {"new": new, "old": stamp})
    return stamp, new


def upgrade(database_url: str, revision: str = "head") -> tuple[str, str] | None:
    """Upgrade to ``revision``; returns (old, new) when an old-numbered stamp was rewritten first."""
    engine = make_engine(database_url)
    try:
        translated = translate_old_revision(engine)
        command.upgrade(alembic_config(engine), revision)
    finally:
        engine.dispose()
    return translated


def current_revision(database_url: str) -> str | None:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
