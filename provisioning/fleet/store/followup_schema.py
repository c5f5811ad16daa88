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
AVAILABLE_STATUSES = ("online", "late")  # a point that answered within its profile that day

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

# The same statuses summed per commune and calendar month ("YYYY-MM"): machine-days recorded and
# machine-days available ('online' or 'late'), kept by ``fleet suivi`` with the daily rows (migration
# 0009) so the yearly report reads communes × 12 months, never machines × 365 days. A day counts for
# the commune the machine belonged to when it was recorded.
availability_monthly = sa.Table(
    "dash_availability_monthly", metadata,
    sa.Column("month", sa.String(7), primary_key=True),
    sa.Column("commune_insee", sa.String(5), primary_key=True),
    sa.Column("available", sa.BigInteger, nullable=False),
    sa.Column("recorded", sa.BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

# E-mail alerts (dashboard/alerts.py): who wants which alerts, the alerts in force (so each is sent once
# on entering and once on recovery), and the events waiting for a subscriber's daily digest.
alert_subscriptions = sa.Table(
    "dash_alert_subscriptions", metadata,
    sa.Column("user_id", sa.Integer, primary_key=True),  # dash_users.id
    sa.Column("email", sa.String(254), nullable=False),
    sa.Column("kinds", sa.String(200), nullable=False),  # comma-separated severity keys
    sa.Column("last_digest_at", sa.Float),
    sa.Column("updated_at", sa.Float, nullable=False),
)

alert_states = sa.Table(
    "dash_alert_states", metadata,
    sa.Column("asset_tag", sa.String(32), primary_key=True),
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("entered_at", sa.Float, nullable=False),
)

alert_queue = sa.Table(
    "dash_alert_queue", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("user_id", sa.Integer, nullable=False),
    sa.Column("asset_tag", sa.String(32), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("event", sa.String(12), nullable=False),  # 'entered' or 'recovered'
    sa.Column("at", sa.Float, nullable=False),
    sa.Index("ix_dash_alert_queue_user", "user_id", "id"),
)

# Single-use password-reset links an admin sends (accounts/reset.py): only the token's SHA-256 is kept.
password_resets = sa.Table(
    "dash_password_resets", metadata,
    sa.Column("token_sha256", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("expires_at", sa.Float, nullable=False),
    sa.Column("used_at", sa.Float),
    sa.Index("ix_dash_password_resets_user", "user_id"),
)
