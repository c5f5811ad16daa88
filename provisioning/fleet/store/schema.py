"""The fleet store's tables (SQLAlchemy Core) and its one ``MetaData``, which the staff side's tables
(:mod:`provisioning.fleet.store.staff_schema`) join; :data:`provisioning.fleet.store.metadata` is it, with both declared.
Alembic migrations in ``migrations/`` create them.

Identity: a device is its association asset tag (``devices.asset_tag``); serials and UUIDs are
recorded in the inventory only and never used to find or merge machines. Every record a kiosk sends
is stored at most once, keyed by (device_id, seq). Raw health samples (stored per check-in) are kept
for a limited time; hourly and daily roll-ups are updated in the same transaction as the raw insert.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger, Boolean, Column, Float, ForeignKey, Index, Integer, LargeBinary, MetaData, String, Table, Text, text,
)

metadata = MetaData()

# Health thresholds the overview flags and counts by (partial indexes below, migration 0007): a machine
# enters or leaves such an index only when it crosses the threshold, so check-ins rarely touch them.
DISK_FULL_PERCENT = 90
MEMORY_FULL_PERCENT = 90
HOT_CELSIUS = 80

# A connection profile: how often the commune's kiosks are expected to reach the server
# (a zone blanche reaching the network once a day is "late" after a day, not "lost").
communes = Table(
    "communes", metadata,
    Column("insee", String(5), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("expected_interval_s", Integer, nullable=False, server_default="3600"),
    Column("created_at", Float, nullable=False),
    Index("ix_communes_name", "name", "insee"),  # the overview's order (migration 0006)
)

devices = Table(
    "devices", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("asset_tag", String(32), nullable=False, unique=True),
    Column("commune_insee", String(5), ForeignKey("communes.insee"), nullable=False, index=True),
    Column("enrolled_at", Float, nullable=False, index=True),  # the yearly report's machines handed out (0007)
    Column("last_seen_at", Float),
    Column("last_seq", BigInteger, nullable=False, server_default="0"),
    Column("kiosk_version", String(200)),
    Column("rotate_requested_at", Float),
    # The newest health sample received (what the dashboard's health flags read), updated by the
    # check-in that already updates this row; an older sample arriving late never replaces it.
    Column("health_at", Float),
    Column("disk_used_percent", Float),
    Column("memory_used_percent", Float),
    Column("temperature_max_c", Float),
    Column("uptime_s", Float),
    # last_seen_at + 2 × the commune's expected interval: from then on the machine is late, offline or
    # lost. Kept by triggers (:mod:`provisioning.fleet.store.deadlines`, migration 0007) whoever writes
    # last_seen_at, commune_insee or the commune's interval, so the overview finds the machines that need
    # attention with one index range instead of computing every machine's status.
    Column("late_at", Float),
    Index("ix_devices_commune_asset_tag", "commune_insee", "asset_tag"),  # the overview's order (0006)
    # The overview's counts and groups (0007): each an index range over the machines concerned only.
    Index("ix_devices_late_at", "late_at"),
    Index("ix_devices_kiosk_version", "kiosk_version"),
    Index("ix_devices_never_seen", "id", sqlite_where=text("last_seen_at IS NULL"),
          postgresql_where=text("last_seen_at IS NULL")),
    Index("ix_devices_disk_full", "id", sqlite_where=text(f"disk_used_percent >= {DISK_FULL_PERCENT}"),
          postgresql_where=text(f"disk_used_percent >= {DISK_FULL_PERCENT}")),
    Index("ix_devices_memory_full", "id", sqlite_where=text(f"memory_used_percent >= {MEMORY_FULL_PERCENT}"),
          postgresql_where=text(f"memory_used_percent >= {MEMORY_FULL_PERCENT}")),
    Index("ix_devices_hot", "id", sqlite_where=text(f"temperature_max_c >= {HOT_CELSIUS}"),
          postgresql_where=text(f"temperature_max_c >= {HOT_CELSIUS}")),
)

device_tokens = Table(
    "device_tokens", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("device_id", Integer, ForeignKey("devices.id"), nullable=False, index=True),
    Column("token_sha256", String(64), nullable=False, unique=True),
    Column("created_at", Float, nullable=False),
    Column("revoked_at", Float),
    # A rotated token handed out in a check-in answer: it replaces the others when first used.
    Column("pending", Boolean, nullable=False, server_default="0"),
)

enrolment_codes = Table(
    "enrolment_codes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("code_sha256", String(64), nullable=False, unique=True),
    Column("commune_insee", String(5), ForeignKey("communes.insee"), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("used_at", Float),
    Column("used_by_device_id", Integer, ForeignKey("devices.id")),
    # A reinstall code (staff decision): it may enrol only this asset tag, even if the machine is healthy
    # or belongs to another commune. NULL: a code for new machines (see enrolment.py for known tags).
    Column("asset_tag", String(32)),
)

inventory_reports = Table(
    "inventory_reports", metadata,
    Column("device_id", Integer, ForeignKey("devices.id"), primary_key=True),
    Column("seq", BigInteger, primary_key=True),
    Column("at", Float, nullable=False),
    Column("received_at", Float, nullable=False),
    Column("vendor", String(200)),
    Column("model", String(200)),
    Column("serial", String(200)),
    Column("uuid", String(200)),
    Column("cpu_model", String(200)),
    Column("cpu_count", Integer),
    Column("memory_bytes", BigInteger),
    Column("disks_json", Text, nullable=False, server_default="[]"),
    Column("macs_json", Text, nullable=False, server_default="[]"),
    Column("os", String(200)),
    Column("kernel", String(200)),
    Column("kiosk_version", String(200)),
)

# Raw health samples, one row per check-in and UTC day of the samples (normally one row per check-in):
# ``samples`` holds its layout version (one byte), then [seq, at, *the layout's fields] per sample as float64,
# zlib-compressed: the layouts are declared in raw_health.py, by the store, each row keeping its own.
# One small row instead of one row per sample in three B-trees: raw samples were most of the pages each
# check-in's commit wrote. Clustered by device (SQLite: WITHOUT ROWID), so a replayed batch's overlap is
# found in the table itself; ``at_last`` is what the retention prune deletes by.
health_batches = Table(
    "health_batches", metadata,
    Column("device_id", Integer, ForeignKey("devices.id"), primary_key=True),
    Column("last_seq", BigInteger, primary_key=True),
    Column("first_seq", BigInteger, nullable=False),
    Column("at_first", Float, nullable=False),
    Column("at_last", Float, nullable=False),
    Column("received_at", Float, nullable=False),
    Column("samples", LargeBinary, nullable=False),
    Index("ix_health_batches_at_last", "at_last"),
    sqlite_with_rowid=False,
)


def _rollup_columns() -> list[Column]:
    """Sums and counts (for averages) and maxima over the samples of one period."""
    return [
        Column("samples", Integer, nullable=False),
        Column("cpu_sum", Float, nullable=False, server_default="0"),
        Column("cpu_n", Integer, nullable=False, server_default="0"),
        Column("cpu_max", Float),
        Column("memory_sum", Float, nullable=False, server_default="0"),
        Column("memory_n", Integer, nullable=False, server_default="0"),
        Column("memory_max", Float),
        Column("load_max", Float),
        Column("disk_used_max", Float),
        Column("temperature_max", Float),
        Column("kiosk_restarts", Integer, nullable=False, server_default="0"),
    ]


# period_start: POSIX seconds (UTC) of the start of the hour or day.
health_hourly = Table(
    "health_hourly", metadata,
    Column("device_id", Integer, ForeignKey("devices.id"), primary_key=True),
    Column("period_start", BigInteger, primary_key=True),
    *_rollup_columns(),
    Index("ix_health_hourly_period", "period_start"),
    sqlite_with_rowid=False,  # one B-tree keyed by (machine, period): migration 0017
)

health_daily = Table(
    "health_daily", metadata,
    Column("device_id", Integer, ForeignKey("devices.id"), primary_key=True),
    Column("period_start", BigInteger, primary_key=True),
    *_rollup_columns(),
    Index("ix_health_daily_period", "period_start"),
    sqlite_with_rowid=False,  # one B-tree keyed by (machine, period): migration 0017
)

# The ledger of usage records already counted: a replayed record is recognised and not counted again.
usage_reports = Table(
    "usage_reports", metadata,
    Column("device_id", Integer, ForeignKey("devices.id"), primary_key=True),
    Column("seq", BigInteger, primary_key=True),
    Column("at", Float, nullable=False),
    Column("day", String(10), nullable=False),
    Column("received_at", Float, nullable=False),
    sqlite_with_rowid=False,  # one B-tree, not a rowid table beside the primary key's index
)

# Daily counters per device of what describes the machine itself (DEVICE_USAGE_METRICS: starts and
# crash recoveries, for its page and health flags). How residents use the kiosks (sessions, tiles,
# prints...) is counted per commune and day only (dash_usage_commune_daily): the usage pages need
# nothing finer, and no use is ever attached to a machine.
DEVICE_USAGE_METRICS = frozenset({"kiosk_started", "crash_recovered"})
usage_daily = Table(
    "usage_daily", metadata,
    Column("device_id", Integer, ForeignKey("devices.id"), primary_key=True),
    Column("day", String(10), primary_key=True),
    Column("metric", String(32), primary_key=True),
    Column("key", String(253), primary_key=True),
    Column("count", BigInteger, nullable=False),
    Index("ix_usage_daily_day", "day"),
    sqlite_with_rowid=False,  # one B-tree keyed by its primary key: migration 0017
)

