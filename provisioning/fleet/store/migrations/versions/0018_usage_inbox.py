"""The check-in appends its usage counters to an inbox; the dashboard's counters are added up from it in
batches (provisioning/fleet/store/readmodel.py: fold_usage), no longer inside every check-in's transaction.

Going back folds whatever the inbox still holds into the dashboard's counters before dropping it: no
count is lost either way.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-28
"""

from alembic import op
import sqlalchemy as sa


revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'dash_usage_inbox',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
        sa.Column('commune_insee', sa.String(length=5), nullable=False),
        sa.Column('counters', sa.Text(), nullable=False),
        sa.Column('received_at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('id'))


def downgrade() -> None:
    from provisioning.fleet.store.readmodel import fold_usage_on
    while fold_usage_on(op.get_bind()):
        pass
    op.drop_table('dash_usage_inbox')
