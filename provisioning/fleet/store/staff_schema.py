"""The staff side's tables (prefix ``dash_``): accounts, the machines' life cycle, the communes' places,
and per-commune usage. Declared in the store's one ``MetaData`` (:data:`provisioning.fleet.store.schema.metadata`),
beside the tables the kiosks fill; the migrations in ``migrations/`` build both.

Recent crashes and the per-commune usage are fed in the ingest transaction by
:mod:`provisioning.fleet.store.readmodel` (the latest health is on the store's ``devices`` row);
they keep every page a handful of indexed queries on a fleet of 10,000 machines (no scan of raw
samples, no per-device usage scan).
Times are POSIX seconds (UTC) in floats; days are ISO ``YYYY-MM-DD`` strings (they sort and compare).
"""

from __future__ import annotations

import sqlalchemy as sa

from provisioning.fleet.store.schema import metadata

LIFECYCLE_STATES = ("donated", "refurbished", "deployed", "returned", "recycled")
ROLES = ("admin", "staff", "commune")
REPEATED_CRASHES_7D = 3  # crash recoveries over 7 days that make a crash loop

users = sa.Table(
    "dash_users", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("commune_insee", sa.String(5)),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("disabled", sa.Boolean, nullable=False, default=False),
    sa.CheckConstraint("role IN ('admin', 'staff', 'commune')", name="ck_dash_users_role"),
    sa.CheckConstraint("role <> 'commune' OR commune_insee IS NOT NULL", name="ck_dash_users_commune"),
)

login_failures = sa.Table(
    "dash_login_failures", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    # "ip:<address>", "pair:<name>|<address>" (account and address) or "user:<name>" (every address)
    sa.Column("subject", sa.String(128), nullable=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.Index("ix_dash_login_failures_subject_at", "subject", "at"),
)

# Server-side staff sessions: the signed cookie carries a random session id, the server keeps only its
# SHA-256 digest. A session is valid while its row exists, is not ended, is younger than the absolute
# lifetime (8 h) and was used within the idle timeout (30 min): logout, a password change or disabling
# the account end it on the server, so a copied cookie opens nothing. Ended rows are kept 30 days: they
# tell which addresses an account logged in from (the login throttle spares those), then are pruned.
sessions = sa.Table(
    "dash_sessions", metadata,
    sa.Column("id_sha256", sa.String(64), primary_key=True),
    sa.Column("user_id", sa.Integer, sa.ForeignKey("dash_users.id"), nullable=False),
    sa.Column("address", sa.String(64), nullable=False),  # client address at login (behind trusted proxies)
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("last_seen_at", sa.Float, nullable=False),
    sa.Column("ended_at", sa.Float),
    sa.Index("ix_dash_sessions_user", "user_id", "created_at"),
)

commune_places = sa.Table(
    "dash_commune_places", metadata,
    sa.Column("insee", sa.String(5), primary_key=True),  # communes.insee (the store's communes)
    sa.Column("postal_code", sa.String(5)),
    sa.Column("address", sa.String(200)),
    sa.Column("siret", sa.String(14)),
    sa.Column("opening_hours", sa.String(300)),  # OpenStreetMap opening_hours syntax
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("phone", sa.String(20)),  # the town hall's, for the staff (migration 0008)
    sa.Column("email", sa.String(254)),
)

# The asset side of a machine (devices.asset_tag); crashes_7d is kept by the read model (its latest
# health is on the devices row).
machine_assets = sa.Table(
    "dash_machine_assets", metadata,
    sa.Column("asset_tag", sa.String(32), primary_key=True),
    sa.Column("lifecycle_state", sa.String(16), nullable=False, default="deployed"),
    sa.Column("donor", sa.String(120)),
    sa.Column("intake_date", sa.String(10)),
    sa.Column("erasure_certificate", sa.String(80)),
    sa.Column("crashes_7d", sa.Integer, nullable=False, default=0),
    sa.CheckConstraint(
        "lifecycle_state IN ('donated', 'refurbished', 'deployed', 'returned', 'recycled')",
        name="ck_dash_machine_assets_lifecycle"),
    # The overview's counts (0007): the few machines not deployed, and those crashing repeatedly.
    sa.Index("ix_dash_machine_assets_not_deployed", "asset_tag",
             sqlite_where=sa.text("lifecycle_state <> 'deployed'"),
             postgresql_where=sa.text("lifecycle_state <> 'deployed'")),
    sa.Index("ix_dash_machine_assets_crashing", "asset_tag", sqlite_where=sa.text(f"crashes_7d >= {REPEATED_CRASHES_7D}"),
             postgresql_where=sa.text(f"crashes_7d >= {REPEATED_CRASHES_7D}")),
)

commune_moves = sa.Table(
    "dash_commune_moves", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("asset_tag", sa.String(32), nullable=False),
    sa.Column("from_insee", sa.String(5)),
    sa.Column("to_insee", sa.String(5), nullable=False),
    sa.Column("at", sa.Float, nullable=False),
    sa.Column("by_user", sa.String(64), nullable=False),
    sa.Index("ix_dash_commune_moves_asset", "asset_tag", "at"),
)

# Usage counters summed per commune and day (the store keeps them per device), and for the whole fleet:
# the usage page and the yearly report read these two tables only. The primary key leads with
# (metric, day) so a period's figures are one contiguous range (SQLite: a clustered WITHOUT ROWID table;
# PostgreSQL: an index that includes the counts, for index-only scans).
usage_commune_daily = sa.Table(
    "dash_usage_commune_daily", metadata,
    sa.Column("metric", sa.String(32), primary_key=True),
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("commune_insee", sa.String(5), primary_key=True),
    sa.Column("key", sa.String(253), primary_key=True),
    sa.Column("count", sa.BigInteger, nullable=False),
    sa.Index("ix_dash_usage_commune_daily_commune", "commune_insee", "metric", "day"),
    sa.Index("ix_dash_usage_commune_daily_range", "metric", "day", postgresql_include=["commune_insee", "key", "count"]),
    sqlite_with_rowid=False,
)

# The same per-commune counters summed per calendar month ("YYYY-MM"), kept in the same transaction: a
# period of whole months (the usage page's default) reads 3,000 communes × a few months, not × 90 days.
usage_commune_monthly = sa.Table(
    "dash_usage_commune_monthly", metadata,
    sa.Column("metric", sa.String(32), primary_key=True),
    sa.Column("month", sa.String(7), primary_key=True),
    sa.Column("commune_insee", sa.String(5), primary_key=True),
    sa.Column("key", sa.String(253), primary_key=True),
    sa.Column("count", sa.BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

usage_fleet_daily = sa.Table(
    "dash_usage_fleet_daily", metadata,
    sa.Column("metric", sa.String(32), primary_key=True),
    sa.Column("day", sa.String(10), primary_key=True),
    sa.Column("key", sa.String(253), primary_key=True),
    sa.Column("count", sa.BigInteger, nullable=False),
    sqlite_with_rowid=False,
)

# Usage counters a check-in stored that are not yet added to the three tables above. A check-in appends
# one row (its machine's commune and its new counters, JSON [[day, metric, key, count], ...]) instead of
# updating about fifteen rows of three tables inside its transaction; readmodel.fold_usage adds them in
# batches and deletes them in one transaction (exactly once): the check-in workers about once a second,
# and every reader of the three tables (pages, exports, report, retention) before it reads.
usage_inbox = sa.Table(
    "dash_usage_inbox", metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("commune_insee", sa.String(5), nullable=False),
    sa.Column("counters", sa.Text, nullable=False),
    sa.Column("received_at", sa.Float, nullable=False),
)
