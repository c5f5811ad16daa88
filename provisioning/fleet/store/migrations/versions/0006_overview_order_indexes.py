"""Indexes in the fleet overview's order (commune name, then asset tag), so that one page of 50 machines
is read in order and the scan stops after the page, instead of sorting the whole fleet on each request:
at 100,000 machines in 3,000 communes the listing went from a full sort (seconds) to tens of
milliseconds on SQLite (bench/dashboard.py --machines 100000 --communes 3000).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_communes_name', 'communes', ['name', 'insee'], unique=False)
    op.create_index('ix_devices_commune_asset_tag', 'devices', ['commune_insee', 'asset_tag'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_devices_commune_asset_tag', table_name='devices')
    op.drop_index('ix_communes_name', table_name='communes')
