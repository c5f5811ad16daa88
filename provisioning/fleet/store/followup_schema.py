"""The staff's follow-up tables (prefix ``dash_``): notes on a machine ("Jean passe jeudi") and each
machine's daily status, recorded by ``fleet suivi`` (run by a timer) because the store keeps no
history of check-ins, only the last one.

Declared in the store's one ``MetaData`` beside :mod:`.staff_schema`; migration 0008 builds them.
"""

from __future__ import annotations

import sqlalchemy as sa

from provisioning.fleet.store.schema import metadata

NOTE_MAX_CHARS = 500
DAILY_STATUSES = ("online", "late", "offline", "missing")

machine_notes = sa.Table(
    "dash_machine_notes", metadata,
    sa.Column("asset_tag", sa.String(32), primary_key=True),
    sa.Column("text", sa.String(NOTE_MAX_CHARS), nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("updated_by", sa.String(64), nullable=False),
)

# The worst status each machine had on each day (UTC), as seen by the periodic ``fleet suivi`` run:
# 'online' < 'late' < 'offline' < 'missing'. Kept 400 days (the yearly report's availability).
machine_status_days = sa.Table(
    "dash_machine_status_days", metadata,
    sa.Column("asset_tag", sa.String(32), primary_key=True),
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.CheckConstraint("status IN ('online', 'late', 'offline', 'missing')", name="ck_dash_machine_status_days_status"),
    sa.Index("ix_dash_machine_status_days_day", "day"),
)
