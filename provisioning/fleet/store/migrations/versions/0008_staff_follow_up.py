"""The staff's follow-up (issue 16): the town hall's phone and e-mail on its place, notes on a machine,
each machine's daily status (the 90-day timeline and the report's availability), e-mail alerts
(subscriptions, alerts in force, digest queue) and single-use password-reset links (hashed).

Revision ID: 0008
Revises: 0006 (re-pointed to 0007 when the branches are merged)
Create Date: 2026-11-28
"""

from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('dash_commune_places') as batch:
        batch.add_column(sa.Column('phone', sa.String(length=20), nullable=True))
        batch.add_column(sa.Column('email', sa.String(length=254), nullable=True))
    op.create_table(
        'dash_machine_notes',
        sa.Column('asset_tag', sa.String(length=32), nullable=False),
        sa.Column('text', sa.String(length=500), nullable=False),
        sa.Column('updated_at', sa.Float(), nullable=False),
        sa.Column('updated_by', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('asset_tag'))
    op.create_table(
        'dash_machine_status_days',
        sa.Column('asset_tag', sa.String(length=32), nullable=False),
        sa.Column('day', sa.String(length=10), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.CheckConstraint("status IN ('online', 'late', 'offline', 'missing')",
                           name='ck_dash_machine_status_days_status'),
        sa.PrimaryKeyConstraint('asset_tag', 'day'))
    op.create_index('ix_dash_machine_status_days_day', 'dash_machine_status_days', ['day'], unique=False)
    op.create_table(
        'dash_alert_subscriptions',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('kinds', sa.String(length=200), nullable=False),
        sa.Column('last_digest_at', sa.Float(), nullable=True),
        sa.Column('updated_at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('user_id'))
    op.create_table(
        'dash_alert_states',
        sa.Column('asset_tag', sa.String(length=32), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('entered_at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('asset_tag', 'kind'))
    op.create_table(
        'dash_alert_queue',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('asset_tag', sa.String(length=32), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('event', sa.String(length=12), nullable=False),
        sa.Column('at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('id'))
    op.create_index('ix_dash_alert_queue_user', 'dash_alert_queue', ['user_id', 'id'], unique=False)
    op.create_table(
        'dash_password_resets',
        sa.Column('token_sha256', sa.String(length=64), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.Float(), nullable=False),
        sa.Column('expires_at', sa.Float(), nullable=False),
        sa.Column('used_at', sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint('token_sha256'))
    op.create_index('ix_dash_password_resets_user', 'dash_password_resets', ['user_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_dash_password_resets_user', table_name='dash_password_resets')
    op.drop_table('dash_password_resets')
    op.drop_index('ix_dash_alert_queue_user', table_name='dash_alert_queue')
    op.drop_table('dash_alert_queue')
    op.drop_table('dash_alert_states')
    op.drop_table('dash_alert_subscriptions')
    op.drop_index('ix_dash_machine_status_days_day', table_name='dash_machine_status_days')
    op.drop_table('dash_machine_status_days')
    op.drop_table('dash_machine_notes')
    with op.batch_alter_table('dash_commune_places') as batch:
        batch.drop_column('email')
        batch.drop_column('phone')
