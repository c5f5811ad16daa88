"""Raw health samples indexed by (device_id, at) instead of (at): a check-in's samples now land in one
or two index pages (one device's entries sit together) instead of one page per sample, which made the
index most of the cost of committing a check-in; the retention prune walks it device by device.

Revision ID: 0003 (numbered 0002 until the store's renumbering)
Revises: 0002
Create Date: 2026-11-25
"""

from alembic import op


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('health_samples', schema=None) as batch_op:
        batch_op.create_index('ix_health_samples_device_at', ['device_id', 'at'], unique=False)
        batch_op.drop_index('ix_health_samples_at')


def downgrade() -> None:
    with op.batch_alter_table('health_samples', schema=None) as batch_op:
        batch_op.create_index('ix_health_samples_at', ['at'], unique=False)
        batch_op.drop_index('ix_health_samples_device_at')
