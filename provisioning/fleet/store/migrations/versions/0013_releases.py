"""Kiosk software releases, rings and where each machine stands (issue 12): ``rel_`` tables.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28
"""

from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'rel_releases',
        sa.Column('version', sa.String(length=40), nullable=False),
        sa.Column('package', sa.String(length=64), nullable=False),
        sa.Column('file_count', sa.Integer(), nullable=False),
        sa.Column('total_bytes', sa.BigInteger(), nullable=False),
        sa.Column('manifest_sha256', sa.String(length=64), nullable=False),
        sa.Column('published_at', sa.Float(), nullable=False),
        sa.Column('published_by', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('version'))
    op.create_table(
        'rel_ring_targets',
        sa.Column('ring', sa.String(length=16), nullable=False),
        sa.Column('version', sa.String(length=40), nullable=False),
        sa.Column('promoted_at', sa.Float(), nullable=False),
        sa.Column('promoted_by', sa.String(length=64), nullable=False),
        sa.CheckConstraint("ring IN ('pilote', 'tous')", name='ck_rel_ring_targets_ring'),
        sa.ForeignKeyConstraint(['version'], ['rel_releases.version']),
        sa.PrimaryKeyConstraint('ring'))
    op.create_table(
        'rel_machine_status',
        sa.Column('device_id', sa.Integer(), nullable=False),
        sa.Column('ring', sa.String(length=16), server_default='tous', nullable=False),
        sa.Column('running_version', sa.String(length=40), nullable=True),
        sa.Column('state', sa.String(length=16), nullable=True),
        sa.Column('state_version', sa.String(length=40), nullable=True),
        sa.Column('reason', sa.String(length=300), nullable=True),
        sa.Column('reported_at', sa.Float(), nullable=True),
        sa.CheckConstraint("ring IN ('pilote', 'tous')", name='ck_rel_machine_status_ring'),
        sa.CheckConstraint("state IS NULL OR state IN ('downloaded', 'installed', 'switched', 'rolled_back', "
                           "'failed')", name='ck_rel_machine_status_state'),
        sa.ForeignKeyConstraint(['device_id'], ['devices.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('device_id'))
    op.create_index('ix_rel_machine_status_ring', 'rel_machine_status', ['ring'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_rel_machine_status_ring', table_name='rel_machine_status')
    op.drop_table('rel_machine_status')
    op.drop_table('rel_ring_targets')
    op.drop_table('rel_releases')
