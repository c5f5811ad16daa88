"""The residents' call-back requests (issue 13): ``help_callback_requests``.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28
"""

from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'help_callback_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('request_id', sa.String(length=32), nullable=False),
        sa.Column('device_id', sa.Integer(), nullable=False),
        sa.Column('commune_insee', sa.String(length=5), nullable=False),
        sa.Column('name', sa.String(length=60), nullable=False),
        sa.Column('phone', sa.String(length=14), nullable=False),
        sa.Column('subject', sa.String(length=16), nullable=False),
        sa.Column('slot', sa.String(length=20), nullable=False),
        sa.Column('made_at', sa.Float(), nullable=False),
        sa.Column('received_at', sa.Float(), nullable=False),
        sa.Column('status', sa.String(length=12), server_default='new', nullable=False),
        sa.Column('taken_by', sa.String(length=64), nullable=True),
        sa.Column('note', sa.String(length=500), nullable=True),
        sa.Column('updated_at', sa.Float(), nullable=False),
        sa.Column('done_at', sa.Float(), nullable=True),
        sa.Column('notified_at', sa.Float(), nullable=True),
        sa.CheckConstraint("status IN ('new', 'in_progress', 'done')", name='ck_help_callback_requests_status'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('request_id'))
    op.create_index('ix_help_callback_requests_status', 'help_callback_requests', ['status', 'received_at'],
                    unique=False)
    op.create_index('ix_help_callback_requests_done_at', 'help_callback_requests', ['done_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_help_callback_requests_done_at', table_name='help_callback_requests')
    op.drop_index('ix_help_callback_requests_status', table_name='help_callback_requests')
    op.drop_table('help_callback_requests')
