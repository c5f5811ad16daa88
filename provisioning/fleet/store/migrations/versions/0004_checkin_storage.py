"""A lighter check-in commit: fewer pages written per check-in.

- Raw health samples: one compressed row per check-in (and UTC day) in ``health_batches``, clustered by
  (device_id, last_seq), instead of one row per sample in ``health_samples`` with two indexes: the
  per-sample rows were most of the pages each check-in's commit wrote. Existing samples move over, one
  row per device and day.
- ``usage_reports`` (the ledger of counted usage records) is a clustered table on SQLite (no rowid table
  beside its primary key).
- The latest health snapshot the dashboard shows moves from ``dash_machine_assets`` to the ``devices``
  row, which every check-in updates anyway.

Revision ID: 0004 (numbered 0003 until the store's renumbering)
Revises: 0003
Create Date: 2026-11-26
"""

import math
import sys
import zlib
from array import array

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# The sample layout of this revision (provisioning/fleet/store/raw_health.py, layout 1), frozen here.
HEALTH_FIELDS = (
    "cpu_percent", "load1", "memory_used_percent", "memory_available_bytes", "disk_used_percent",
    "disk_free_bytes", "uptime_s", "boot_time", "temperature_max_c", "battery_percent",
    "battery_plugged", "kiosk_restarts", "last_session_at",
)
_INTEGERS = {"seq", "memory_available_bytes", "disk_free_bytes", "kiosk_restarts"}
SNAPSHOT_COLUMNS = ("health_at", "disk_used_percent", "memory_used_percent", "temperature_max_c", "uptime_s")
_CHUNK = 5000


def _create_health_samples() -> None:
    op.create_table(
        'health_samples',
        sa.Column('device_id', sa.Integer(), nullable=False),
        sa.Column('seq', sa.BigInteger(), nullable=False),
        sa.Column('at', sa.Float(), nullable=False),
        sa.Column('received_at', sa.Float(), nullable=False),
        *[sa.Column(name, sa.Boolean() if name == 'battery_plugged' else
                    sa.BigInteger() if name.endswith('_bytes') else
                    sa.Integer() if name == 'kiosk_restarts' else sa.Float(), nullable=True)
          for name in HEALTH_FIELDS],
        sa.ForeignKeyConstraint(['device_id'], ['devices.id'], ),
        sa.PrimaryKeyConstraint('device_id', 'seq'),
    )
    op.create_index('ix_health_samples_device_at', 'health_samples', ['device_id', 'at'], unique=False)


def _create_health_batches() -> None:
    op.create_table(
        'health_batches',
        sa.Column('device_id', sa.Integer(), nullable=False),
        sa.Column('last_seq', sa.BigInteger(), nullable=False),
        sa.Column('first_seq', sa.BigInteger(), nullable=False),
        sa.Column('at_first', sa.Float(), nullable=False),
        sa.Column('at_last', sa.Float(), nullable=False),
        sa.Column('received_at', sa.Float(), nullable=False),
        sa.Column('samples', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['device_id'], ['devices.id'], ),
        sa.PrimaryKeyConstraint('device_id', 'last_seq'),
        sqlite_with_rowid=False,
    )
    op.create_index('ix_health_batches_at_last', 'health_batches', ['at_last'], unique=False)


def _create_usage_reports(name: str, clustered: bool) -> None:
    op.create_table(
        name,
        sa.Column('device_id', sa.Integer(), nullable=False),
        sa.Column('seq', sa.BigInteger(), nullable=False),
        sa.Column('at', sa.Float(), nullable=False),
        sa.Column('day', sa.String(length=10), nullable=False),
        sa.Column('received_at', sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(['device_id'], ['devices.id'], ),
        sa.PrimaryKeyConstraint('device_id', 'seq'),
        sqlite_with_rowid=not clustered,
    )


def _rebuild_usage_reports(clustered: bool) -> None:
    """SQLite cannot switch a table to or from WITHOUT ROWID in place: copy it (PostgreSQL: no change)."""
    if op.get_bind().dialect.name != 'sqlite':
        return
    _create_usage_reports('usage_reports_rebuilt', clustered)
    op.execute('INSERT INTO usage_reports_rebuilt (device_id, seq, at, day, received_at) '
               'SELECT device_id, seq, at, day, received_at FROM usage_reports')
    op.drop_table('usage_reports')
    op.rename_table('usage_reports_rebuilt', 'usage_reports')


def _encode(rows: list) -> bytes:
    """Samples as float64 values (NaN: none), little-endian, zlib (the layout of raw_health.py)."""
    packed = array('d', [math.nan if value is None else float(value) for row in rows for value in row])
    if sys.byteorder != 'little':
        packed.byteswap()
    return zlib.compress(packed.tobytes(), 1)


def _decode(stored: bytes) -> list[dict]:
    stored = bytes(stored)
    if stored[:1] == b'\x01':  # layout 1 behind its version byte (raw_health.py): the same values
        stored = stored[1:]
    elif stored[:1] != b'\x78':  # not a zlib stream: a later layout this revision cannot read
        raise ValueError(f'health_batches: layout {stored[0]} cannot go back to health_samples')
    packed = array('d', zlib.decompress(stored))
    if sys.byteorder != 'little':
        packed.byteswap()
    names = ('seq', 'at', *HEALTH_FIELDS)
    samples = []
    for start in range(0, len(packed), len(names)):
        sample = {}
        for name, value in zip(names, packed[start:start + len(names)]):
            sample[name] = (None if value != value else int(value) if name in _INTEGERS
                            else bool(value) if name == 'battery_plugged' else value)
        samples.append(sample)
    return samples


_samples = sa.table('health_samples', *[sa.column(name) for name in ('device_id', 'seq', 'at', 'received_at',
                                                                       *HEALTH_FIELDS)])
_batches = sa.table('health_batches', *[sa.column(name) for name in (
    'device_id', 'first_seq', 'last_seq', 'at_first', 'at_last', 'received_at', 'samples')])


def _flush(bind, group: list) -> None:
    by_day: dict = {}
    for row in group:
        by_day.setdefault((row.device_id, int(row.at // 86400)), []).append(row)
    bind.execute(_batches.insert(), [{
        'device_id': device_id, 'first_seq': rows[0].seq, 'last_seq': rows[-1].seq,
        'at_first': min(r.at for r in rows), 'at_last': max(r.at for r in rows),
        'received_at': max(r.received_at for r in rows),
        'samples': _encode([[r.seq, r.at, *[getattr(r, name) for name in HEALTH_FIELDS]] for r in rows]),
    } for (device_id, _day), rows in by_day.items()])


def _move_snapshot_columns(source: str, target: str) -> None:
    """Both tables are keyed by asset_tag. Plain ALTER TABLE (SQLite >= 3.35 drops columns in place):
    a batch rebuild of ``devices`` would trip the foreign keys that point at it."""
    for name in SNAPSHOT_COLUMNS:
        op.add_column(target, sa.Column(name, sa.Float(), nullable=True))
    assignments = ', '.join(f'{name} = (SELECT s.{name} FROM {source} s WHERE s.asset_tag = {target}.asset_tag)'
                            for name in SNAPSHOT_COLUMNS)
    op.execute(f'UPDATE {target} SET {assignments}')
    for name in SNAPSHOT_COLUMNS:
        op.execute(f'ALTER TABLE {source} DROP COLUMN {name}')


def upgrade() -> None:
    bind = op.get_bind()
    _create_health_batches()
    group: list = []
    last_key = None
    rows = bind.execute(sa.select(_samples).order_by(_samples.c.device_id, _samples.c.seq)
                        .execution_options(yield_per=_CHUNK))
    for row in rows:
        key = (row.device_id, int(row.at // 86400))
        if group and len(group) >= _CHUNK and key != last_key:
            _flush(bind, group)
            group = []
        group.append(row)
        last_key = key
    if group:
        _flush(bind, group)
    op.drop_index('ix_health_samples_device_at', table_name='health_samples')
    op.drop_table('health_samples')

    _rebuild_usage_reports(clustered=True)

    _move_snapshot_columns('dash_machine_assets', 'devices')


def downgrade() -> None:
    bind = op.get_bind()
    _move_snapshot_columns('devices', 'dash_machine_assets')

    _rebuild_usage_reports(clustered=False)

    _create_health_samples()
    for device_id, received, stored in bind.execute(
            sa.select(_batches.c.device_id, _batches.c.received_at, _batches.c.samples)
            .order_by(_batches.c.device_id, _batches.c.last_seq)).all():
        samples = _decode(stored)
        if samples:
            bind.execute(_samples.insert(), [dict(sample, device_id=device_id, received_at=received)
                                             for sample in samples])
    op.drop_index('ix_health_batches_at_last', table_name='health_batches')
    op.drop_table('health_batches')
