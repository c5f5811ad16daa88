"""The yearly report at scale: each commune's availability per calendar month
(``dash_availability_monthly``: machine-days recorded and available), filled here from the machines'
daily statuses (each day counted for the machine's commune now), then kept by ``fleet suivi`` with them.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28
"""

from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'dash_availability_monthly',
        sa.Column('month', sa.String(length=7), nullable=False),
        sa.Column('commune_insee', sa.String(length=5), nullable=False),
        sa.Column('available', sa.BigInteger(), nullable=False),
        sa.Column('recorded', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('month', 'commune_insee'),
        sqlite_with_rowid=False,
    )
    op.execute("INSERT INTO dash_availability_monthly (month, commune_insee, available, recorded) "
               "SELECT SUBSTR(s.day, 1, 7), d.commune_insee, "
               "SUM(CASE WHEN s.status IN ('online', 'late') THEN 1 ELSE 0 END), COUNT(*) "
               "FROM dash_machine_status_days s JOIN devices d ON d.asset_tag = s.asset_tag "
               "GROUP BY SUBSTR(s.day, 1, 7), d.commune_insee")


def downgrade() -> None:
    op.drop_table('dash_availability_monthly')
