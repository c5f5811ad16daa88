"""Consented remote assistance (issue 13): ``assist_sessions``, the log of sessions (no images).

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-28
"""

from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'assist_sessions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('device_id', sa.Integer(), nullable=False),
        sa.Column('mediator_user_id', sa.Integer(), nullable=False),
        sa.Column('mediator_name', sa.String(length=40), nullable=False),
        sa.Column('mediator_title', sa.String(length=20), nullable=False),
        sa.Column('requested_at', sa.Float(), nullable=False),
        sa.Column('started_at', sa.Float(), nullable=True),
        sa.Column('ended_at', sa.Float(), nullable=True),
        sa.Column('end_reason', sa.String(length=16), nullable=True),
        sa.Column('kiosk_key_sha256', sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_assist_sessions_device', 'assist_sessions', ['device_id', 'ended_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_assist_sessions_device', table_name='assist_sessions')
    op.drop_table('assist_sessions')
