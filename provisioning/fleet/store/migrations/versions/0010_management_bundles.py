"""Central management (issue 12): per-commune configuration bundles (versioned, who and when), the bus
calendar, and each kiosk's bundle status (version applied, last refusal and its reason).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28
"""

from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'mgmt_bundles',
        sa.Column('commune_insee', sa.String(length=5), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('content', sa.Text(), nullable=False),
        sa.Column('summary', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.Column('created_by', sa.String(length=64), nullable=False),
        sa.CheckConstraint('version >= 1', name='ck_mgmt_bundles_version'),
        sa.PrimaryKeyConstraint('commune_insee', 'version'))
    op.create_table(
        'mgmt_bus_visits',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('commune_insee', sa.String(length=5), nullable=False),
        sa.Column('day', sa.String(length=10), nullable=False),
        sa.Column('hours', sa.String(length=11), nullable=False),
        sa.Column('place', sa.String(length=140), nullable=False),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_mgmt_bus_visits_commune_day', 'mgmt_bus_visits', ['commune_insee', 'day'], unique=False)
    op.create_table(
        'mgmt_kiosk_bundles',
        sa.Column('asset_tag', sa.String(length=32), nullable=False),
        sa.Column('applied_version', sa.Integer(), nullable=True),
        sa.Column('refused_version', sa.Integer(), nullable=True),
        sa.Column('refusal', sa.String(length=300), nullable=True),
        sa.Column('reported_at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('asset_tag'))


def downgrade() -> None:
    op.drop_table('mgmt_kiosk_bundles')
    op.drop_index('ix_mgmt_bus_visits_commune_day', table_name='mgmt_bus_visits')
    op.drop_table('mgmt_bus_visits')
    op.drop_table('mgmt_bundles')
