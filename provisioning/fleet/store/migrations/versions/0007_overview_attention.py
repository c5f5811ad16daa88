"""The overview "À traiter d'abord" at national scale: ``devices.late_at`` kept by triggers, and partial
indexes, so that the machines needing attention and the overview's counts are index ranges over those
machines only (never a pass over the whole fleet per request).

- ``devices.late_at`` (last check-in + 2 × the commune's expected interval), computed here for the
  machines already enrolled, then kept by triggers (see ``provisioning/fleet/store/deadlines.py``);
- ``dash_usage_commune_monthly``: the per-commune usage counters per calendar month, filled here from
  the daily ones, then kept by the check-in with them (the usage page and report read whole months);
- indexes: ``late_at``; ``kiosk_version``; ``enrolled_at``; partial indexes of the machines never seen, with a full disk,
  saturated memory or too hot, and of the assets not deployed or crashing repeatedly.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

from alembic import op
import sqlalchemy as sa

from provisioning.fleet.store import deadlines


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

# Frozen here (a later change of the thresholds is a new revision).
PARTIAL_INDEXES = (
    ('ix_devices_never_seen', 'devices', ['id'], "last_seen_at IS NULL"),
    ('ix_devices_disk_full', 'devices', ['id'], "disk_used_percent >= 90"),
    ('ix_devices_memory_full', 'devices', ['id'], "memory_used_percent >= 90"),
    ('ix_devices_hot', 'devices', ['id'], "temperature_max_c >= 80"),
    ('ix_dash_machine_assets_not_deployed', 'dash_machine_assets', ['asset_tag'], "lifecycle_state <> 'deployed'"),
    ('ix_dash_machine_assets_crashing', 'dash_machine_assets', ['asset_tag'], "crashes_7d >= 3"),
)


def upgrade() -> None:
    op.add_column('devices', sa.Column('late_at', sa.Float(), nullable=True))
    deadlines.install(op.get_bind())
    op.create_index('ix_devices_late_at', 'devices', ['late_at'], unique=False)
    op.create_index('ix_devices_kiosk_version', 'devices', ['kiosk_version'], unique=False)
    op.create_index('ix_devices_enrolled_at', 'devices', ['enrolled_at'], unique=False)
    op.create_table(
        'dash_usage_commune_monthly',
        sa.Column('metric', sa.String(length=32), nullable=False),
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('commune_insee', sa.String(length=5), nullable=False),
        sa.Column('key', sa.String(length=253), nullable=False),
        sa.Column('count', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('metric', 'month', 'commune_insee', 'key'),
        sqlite_with_rowid=False,
    )
    op.execute("INSERT INTO dash_usage_commune_monthly (metric, month, commune_insee, key, count) "
               "SELECT metric, SUBSTR(day, 1, 7), commune_insee, key, SUM(count) FROM dash_usage_commune_daily "
               "GROUP BY metric, SUBSTR(day, 1, 7), commune_insee, key")
    for name, table, columns, where in PARTIAL_INDEXES:
        op.create_index(name, table, columns, unique=False, sqlite_where=sa.text(where),
                        postgresql_where=sa.text(where))


def downgrade() -> None:
    for name, table, _columns, _where in reversed(PARTIAL_INDEXES):
        op.drop_index(name, table_name=table)
    op.drop_table('dash_usage_commune_monthly')
    op.drop_index('ix_devices_enrolled_at', table_name='devices')
    op.drop_index('ix_devices_kiosk_version', table_name='devices')
    op.drop_index('ix_devices_late_at', table_name='devices')
    deadlines.remove(op.get_bind())
    # Not a batch (SQLite would copy the table, which the other tables' foreign keys refuse): SQLite
    # drops a column that no index names since 3.35.
    op.execute("ALTER TABLE devices DROP COLUMN late_at")
