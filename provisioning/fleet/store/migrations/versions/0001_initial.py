"""Initial store: communes, devices, tokens, enrolment codes, inventory, health, usage

Revision ID: 0001
Revises: 
Create Date: 2026-11-25
"""

from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table('communes',
    sa.Column('insee', sa.String(length=5), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('expected_interval_s', sa.Integer(), server_default='3600', nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('insee')
    )
    op.create_table('devices',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('asset_tag', sa.String(length=32), nullable=False),
    sa.Column('commune_insee', sa.String(length=5), nullable=False),
    sa.Column('enrolled_at', sa.Float(), nullable=False),
    sa.Column('last_seen_at', sa.Float(), nullable=True),
    sa.Column('last_seq', sa.BigInteger(), server_default='0', nullable=False),
    sa.Column('kiosk_version', sa.String(length=200), nullable=True),
    sa.Column('rotate_requested_at', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['commune_insee'], ['communes.insee'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('asset_tag')
    )
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_devices_commune_insee'), ['commune_insee'], unique=False)

    op.create_table('device_tokens',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('token_sha256', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('revoked_at', sa.Float(), nullable=True),
    sa.Column('pending', sa.Boolean(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_sha256')
    )
    with op.batch_alter_table('device_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_device_tokens_device_id'), ['device_id'], unique=False)

    op.create_table('enrolment_codes',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('code_sha256', sa.String(length=64), nullable=False),
    sa.Column('commune_insee', sa.String(length=5), nullable=False),
    sa.Column('created_at', sa.Float(), nullable=False),
    sa.Column('expires_at', sa.Float(), nullable=False),
    sa.Column('used_at', sa.Float(), nullable=True),
    sa.Column('used_by_device_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['commune_insee'], ['communes.insee'], ),
    sa.ForeignKeyConstraint(['used_by_device_id'], ['devices.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code_sha256')
    )
    op.create_table('health_daily',
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.BigInteger(), nullable=False),
    sa.Column('samples', sa.Integer(), nullable=False),
    sa.Column('cpu_sum', sa.Float(), server_default='0', nullable=False),
    sa.Column('cpu_n', sa.Integer(), server_default='0', nullable=False),
    sa.Column('cpu_max', sa.Float(), nullable=True),
    sa.Column('memory_sum', sa.Float(), server_default='0', nullable=False),
    sa.Column('memory_n', sa.Integer(), server_default='0', nullable=False),
    sa.Column('memory_max', sa.Float(), nullable=True),
    sa.Column('load_max', sa.Float(), nullable=True),
    sa.Column('disk_used_max', sa.Float(), nullable=True),
    sa.Column('temperature_max', sa.Float(), nullable=True),
    sa.Column('kiosk_restarts', sa.Integer(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], ),
    sa.PrimaryKeyConstraint('device_id', 'period_start')
    )
    with op.batch_alter_table('health_daily', schema=None) as batch_op:
        batch_op.create_index('ix_health_daily_period', ['period_start'], unique=False)

    op.create_table('health_hourly',
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.BigInteger(), nullable=False),
    sa.Column('samples', sa.Integer(), nullable=False),
    sa.Column('cpu_sum', sa.Float(), server_default='0', nullable=False),
    sa.Column('cpu_n', sa.Integer(), server_default='0', nullable=False),
    sa.Column('cpu_max', sa.Float(), nullable=True),
    sa.Column('memory_sum', sa.Float(), server_default='0', nullable=False),
    sa.Column('memory_n', sa.Integer(), server_default='0', nullable=False),
    sa.Column('memory_max', sa.Float(), nullable=True),
    sa.Column('load_max', sa.Float(), nullable=True),
    sa.Column('disk_used_max', sa.Float(), nullable=True),
    sa.Column('temperature_max', sa.Float(), nullable=True),
    sa.Column('kiosk_restarts', sa.Integer(), server_default='0', nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], ),
    sa.PrimaryKeyConstraint('device_id', 'period_start')
    )
    with op.batch_alter_table('health_hourly', schema=None) as batch_op:
        batch_op.create_index('ix_health_hourly_period', ['period_start'], unique=False)

    op.create_table('health_samples',
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('at', sa.Float(), nullable=False),
    sa.Column('received_at', sa.Float(), nullable=False),
    sa.Column('cpu_percent', sa.Float(), nullable=True),
    sa.Column('load1', sa.Float(), nullable=True),
    sa.Column('memory_used_percent', sa.Float(), nullable=True),
    sa.Column('memory_available_bytes', sa.BigInteger(), nullable=True),
    sa.Column('disk_used_percent', sa.Float(), nullable=True),
    sa.Column('disk_free_bytes', sa.BigInteger(), nullable=True),
    sa.Column('uptime_s', sa.Float(), nullable=True),
    sa.Column('boot_time', sa.Float(), nullable=True),
    sa.Column('temperature_max_c', sa.Float(), nullable=True),
    sa.Column('battery_percent', sa.Float(), nullable=True),
    sa.Column('battery_plugged', sa.Boolean(), nullable=True),
    sa.Column('kiosk_restarts', sa.Integer(), nullable=True),
    sa.Column('last_session_at', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], ),
    sa.PrimaryKeyConstraint('device_id', 'seq')
    )
    with op.batch_alter_table('health_samples', schema=None) as batch_op:
        batch_op.create_index('ix_health_samples_at', ['at'], unique=False)

    op.create_table('inventory_reports',
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('at', sa.Float(), nullable=False),
    sa.Column('received_at', sa.Float(), nullable=False),
    sa.Column('vendor', sa.String(length=200), nullable=True),
    sa.Column('model', sa.String(length=200), nullable=True),
    sa.Column('serial', sa.String(length=200), nullable=True),
    sa.Column('uuid', sa.String(length=200), nullable=True),
    sa.Column('cpu_model', sa.String(length=200), nullable=True),
    sa.Column('cpu_count', sa.Integer(), nullable=True),
    sa.Column('memory_bytes', sa.BigInteger(), nullable=True),
    sa.Column('disks_json', sa.Text(), server_default='[]', nullable=False),
    sa.Column('macs_json', sa.Text(), server_default='[]', nullable=False),
    sa.Column('os', sa.String(length=200), nullable=True),
    sa.Column('kernel', sa.String(length=200), nullable=True),
    sa.Column('kiosk_version', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], ),
    sa.PrimaryKeyConstraint('device_id', 'seq')
    )
    op.create_table('usage_daily',
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('metric', sa.String(length=32), nullable=False),
    sa.Column('key', sa.String(length=253), nullable=False),
    sa.Column('count', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], ),
    sa.PrimaryKeyConstraint('device_id', 'day', 'metric', 'key')
    )
    with op.batch_alter_table('usage_daily', schema=None) as batch_op:
        batch_op.create_index('ix_usage_daily_day', ['day'], unique=False)

    op.create_table('usage_reports',
    sa.Column('device_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('at', sa.Float(), nullable=False),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('received_at', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['device_id'], ['devices.id'], ),
    sa.PrimaryKeyConstraint('device_id', 'seq')
    )



def downgrade() -> None:

    op.drop_table('usage_reports')
    with op.batch_alter_table('usage_daily', schema=None) as batch_op:
        batch_op.drop_index('ix_usage_daily_day')

    op.drop_table('usage_daily')
    op.drop_table('inventory_reports')
    with op.batch_alter_table('health_samples', schema=None) as batch_op:
        batch_op.drop_index('ix_health_samples_at')

    op.drop_table('health_samples')
    with op.batch_alter_table('health_hourly', schema=None) as batch_op:
        batch_op.drop_index('ix_health_hourly_period')

    op.drop_table('health_hourly')
    with op.batch_alter_table('health_daily', schema=None) as batch_op:
        batch_op.drop_index('ix_health_daily_period')

    op.drop_table('health_daily')
    op.drop_table('enrolment_codes')
    with op.batch_alter_table('device_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_device_tokens_device_id'))

    op.drop_table('device_tokens')
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_devices_commune_insee'))

    op.drop_table('devices')
    op.drop_table('communes')

