"""SQLite: the machines' deadline trigger writes nothing when the writer set ``late_at`` itself.

The check-in now sets ``devices.late_at`` in its own UPDATE (``hot_sql.LATE_AT``); SQLite's trigger
(which cannot change the row being written, so it wrote it a second time) gains ``WHEN NEW.late_at IS
OLD.late_at``. PostgreSQL's trigger sets the column before the write: nothing changes there.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-28
"""

from alembic import op

from provisioning.fleet.store import deadlines

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

_BEFORE = """CREATE TRIGGER tr_devices_late_at_update AFTER UPDATE OF last_seen_at, commune_insee ON devices
BEGIN UPDATE devices SET late_at = NEW.last_seen_at + 2 * (SELECT expected_interval_s FROM communes WHERE insee = NEW.commune_insee) WHERE id = NEW.id; END"""


def _replace_update_trigger(statement: str) -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    bind.exec_driver_sql("DROP TRIGGER IF EXISTS tr_devices_late_at_update")
    bind.exec_driver_sql(statement)


def upgrade() -> None:
    _replace_update_trigger(deadlines.SQLITE_UPDATE_TRIGGER)


def downgrade() -> None:
    _replace_update_trigger(_BEFORE)
