"""Central management (issue 12): the national services catalog with its pictograms, versioned on the
fleet server (who, when, what changed) and carried in every commune's configuration bundle.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-28
"""

from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'mgmt_catalogs',
        sa.Column('version', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('content', sa.Text(), nullable=False),
        sa.Column('summary', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.Column('created_by', sa.String(length=64), nullable=False),
        sa.CheckConstraint('version >= 1', name='ck_mgmt_catalogs_version'),
        sa.PrimaryKeyConstraint('version'))


def downgrade() -> None:
    op.drop_table('mgmt_catalogs')
