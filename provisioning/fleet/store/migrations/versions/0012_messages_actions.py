"""Messages and remote actions (issue 12): ``mgmt_actions``, ``mgmt_messages``.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28
"""

from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'mgmt_actions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('device_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('state', sa.String(length=12), server_default='pending', nullable=False),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.Column('created_by', sa.String(length=64), nullable=False),
        sa.Column('delivered_at', sa.Float(), nullable=True),
        sa.Column('answered_at', sa.Float(), nullable=True),
        sa.Column('cancelled_at', sa.Float(), nullable=True),
        sa.Column('cancelled_by', sa.String(length=64), nullable=True),
        sa.Column('detail', sa.String(length=300), nullable=True),
        sa.Column('diagnostic', sa.Text(), nullable=True),
        sa.CheckConstraint("kind IN ('restart', 'reboot', 'diagnostic')", name='ck_mgmt_actions_kind'),
        sa.CheckConstraint("state IN ('pending', 'delivered', 'accepted', 'done', 'failed', 'cancelled')",
                           name='ck_mgmt_actions_state'),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_mgmt_actions_device_state', 'mgmt_actions', ['device_id', 'state'], unique=False)
    op.create_table(
        'mgmt_messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('text', sa.String(length=280), nullable=False),
        sa.Column('asset_tag', sa.String(length=32), nullable=True),
        sa.Column('commune_insee', sa.String(length=5), nullable=True),
        sa.Column('ends_at', sa.Float(), nullable=False),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.Column('created_by', sa.String(length=64), nullable=False),
        sa.Column('cancelled_at', sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_mgmt_messages_ends_at', 'mgmt_messages', ['ends_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_mgmt_messages_ends_at', table_name='mgmt_messages')
    op.drop_table('mgmt_messages')
    op.drop_index('ix_mgmt_actions_device_state', table_name='mgmt_actions')
    op.drop_table('mgmt_actions')
