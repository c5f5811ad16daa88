"""Staff dashboard: accounts, login failures, machines' life cycle and latest health, communes' places,
commune moves, per-commune and fleet-wide daily usage (filled from the per-device counters)

Revision ID: 0002 (numbered 0101 until the store's renumbering)
Revises: 0001
Create Date: 2026-11-25
"""

from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'dash_users',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('password_hash', sa.String(length=255), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('commune_insee', sa.String(length=5), nullable=True),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.Column('disabled', sa.Boolean(), nullable=False),
        sa.CheckConstraint("role IN ('admin', 'staff', 'commune')", name='ck_dash_users_role'),
        sa.CheckConstraint("role <> 'commune' OR commune_insee IS NOT NULL", name='ck_dash_users_commune'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('username'),
    )
    op.create_table(
        'dash_login_failures',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('subject', sa.String(length=128), nullable=False),
        sa.Column('at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_dash_login_failures_subject_at', 'dash_login_failures', ['subject', 'at'])
    op.create_table(
        'dash_commune_places',
        sa.Column('insee', sa.String(length=5), nullable=False),
        sa.Column('postal_code', sa.String(length=5), nullable=True),
        sa.Column('address', sa.String(length=200), nullable=True),
        sa.Column('siret', sa.String(length=14), nullable=True),
        sa.Column('opening_hours', sa.String(length=300), nullable=True),
        sa.Column('updated_at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('insee'),
    )
    op.create_table(
        'dash_machine_assets',
        sa.Column('asset_tag', sa.String(length=32), nullable=False),
        sa.Column('lifecycle_state', sa.String(length=16), nullable=False),
        sa.Column('donor', sa.String(length=120), nullable=True),
        sa.Column('intake_date', sa.String(length=10), nullable=True),
        sa.Column('erasure_certificate', sa.String(length=80), nullable=True),
        sa.Column('health_at', sa.Float(), nullable=True),
        sa.Column('disk_used_percent', sa.Float(), nullable=True),
        sa.Column('memory_used_percent', sa.Float(), nullable=True),
        sa.Column('temperature_max_c', sa.Float(), nullable=True),
        sa.Column('uptime_s', sa.Float(), nullable=True),
        sa.Column('crashes_7d', sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "lifecycle_state IN ('donated', 'refurbished', 'deployed', 'returned', 'recycled')",
            name='ck_dash_machine_assets_lifecycle'),
        sa.PrimaryKeyConstraint('asset_tag'),
    )
    op.create_table(
        'dash_commune_moves',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('asset_tag', sa.String(length=32), nullable=False),
        sa.Column('from_insee', sa.String(length=5), nullable=True),
        sa.Column('to_insee', sa.String(length=5), nullable=False),
        sa.Column('at', sa.Float(), nullable=False),
        sa.Column('by_user', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_dash_commune_moves_asset', 'dash_commune_moves', ['asset_tag', 'at'])
    op.create_table(
        'dash_usage_commune_daily',
        sa.Column('metric', sa.String(length=32), nullable=False),
        sa.Column('day', sa.String(length=10), nullable=False),
        sa.Column('commune_insee', sa.String(length=5), nullable=False),
        sa.Column('key', sa.String(length=253), nullable=False),
        sa.Column('count', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('metric', 'day', 'commune_insee', 'key'),
        sqlite_with_rowid=False,
    )
    op.create_index('ix_dash_usage_commune_daily_commune', 'dash_usage_commune_daily',
                    ['commune_insee', 'metric', 'day'])
    op.create_index('ix_dash_usage_commune_daily_range', 'dash_usage_commune_daily', ['metric', 'day'],
                    postgresql_include=['commune_insee', 'key', 'count'])
    op.create_table(
        'dash_usage_fleet_daily',
        sa.Column('metric', sa.String(length=32), nullable=False),
        sa.Column('day', sa.String(length=10), nullable=False),
        sa.Column('key', sa.String(length=253), nullable=False),
        sa.Column('count', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('metric', 'day', 'key'),
        sqlite_with_rowid=False,
    )
    # Counters already stored per device: summed into their device's current commune, and fleet-wide.
    op.execute(
        "INSERT INTO dash_usage_commune_daily (metric, day, commune_insee, key, count) "
        "SELECT usage_daily.metric, usage_daily.day, devices.commune_insee, usage_daily.key, SUM(usage_daily.count) "
        "FROM usage_daily JOIN devices ON devices.id = usage_daily.device_id "
        "GROUP BY usage_daily.metric, usage_daily.day, devices.commune_insee, usage_daily.key")
    op.execute(
        "INSERT INTO dash_usage_fleet_daily (metric, day, key, count) "
        "SELECT metric, day, key, SUM(count) FROM usage_daily GROUP BY metric, day, key")


def downgrade() -> None:
    op.drop_table('dash_usage_fleet_daily')
    op.drop_index('ix_dash_usage_commune_daily_range', table_name='dash_usage_commune_daily')
    op.drop_index('ix_dash_usage_commune_daily_commune', table_name='dash_usage_commune_daily')
    op.drop_table('dash_usage_commune_daily')
    op.drop_index('ix_dash_commune_moves_asset', table_name='dash_commune_moves')
    op.drop_table('dash_commune_moves')
    op.drop_table('dash_machine_assets')
    op.drop_table('dash_commune_places')
    op.drop_index('ix_dash_login_failures_subject_at', table_name='dash_login_failures')
    op.drop_table('dash_login_failures')
    op.drop_table('dash_users')
