"""Raw health samples as the store keeps them: one ``health_batches`` row per check-in and UTC day.

A row's ``samples`` column starts with one byte, the row's layout version; then, per sample in sequence
order, the values of that layout's fields (``seq``, ``at``, then the layout's own list) as little-endian
float64 (NaN: no value), the whole compressed with zlib. Every value the protocol accepts fits a float64
exactly (integers are below 2**53). Samples repeat themselves: a check-in's 20 take about 350 bytes.

The layouts are declared here, by the store, not taken from the protocol's field list: a field added to
the protocol is stored once a new layout (a new version, never an edited one) names it, and every row
keeps the layout it was written with, so rows written before stay readable. Rows written before layouts
were versioned (migration 0004, until the store's renumbering) are a bare zlib stream, whose first byte
is always 0x78: they are read as layout 1, which is why a layout version is below 0x78.

A check-in's samples normally span a few minutes, so they make one row; a backlog sent after days
offline makes one row per day, so the retention prune (by ``at_last``) keeps raw samples to within a day
of the retention setting.
"""

from __future__ import annotations

import math
import struct
import sys
import zlib
from array import array
from dataclasses import dataclass
from typing import Iterable

import sqlalchemy as sa

from provisioning.fleet.store.schema import health_batches

_NAN = math.nan
_LITTLE_ENDIAN = sys.byteorder == "little"
_UNVERSIONED = 0x78  # the first byte of every zlib stream: a row written before layouts were versioned


@dataclass(frozen=True)
class Layout:
    """One version of the stored sample layout: its fields after ``seq`` and ``at``, each with its kind
    (``number``, ``integer`` or ``boolean``: what a stored float64 is read back as)."""

    version: int
    fields: tuple[tuple[str, str], ...]

    def __post_init__(self) -> None:
        if not 0 < self.version < _UNVERSIONED:
            raise ValueError(f"layout version {self.version}: it must be 1 to {_UNVERSIONED - 1}")

    @property
    def names(self) -> tuple[str, ...]:
        return ("seq", "at") + tuple(name for name, _kind in self.fields)

    @property
    def kinds(self) -> tuple[str, ...]:
        return ("integer", "number") + tuple(kind for _name, kind in self.fields)


LAYOUT_1 = Layout(1, (
    ("cpu_percent", "number"), ("load1", "number"), ("memory_used_percent", "number"),
    ("memory_available_bytes", "integer"), ("disk_used_percent", "number"), ("disk_free_bytes", "integer"),
    ("uptime_s", "number"), ("boot_time", "number"), ("temperature_max_c", "number"),
    ("battery_percent", "number"), ("battery_plugged", "boolean"), ("kiosk_restarts", "integer"),
    ("last_session_at", "number"),
))

# Every layout rows may have been written with, by version. A new layout is added here, never edited.
LAYOUTS: dict[int, Layout] = {layout.version: layout for layout in (LAYOUT_1,)}


def current_layout() -> Layout:
    """The layout new rows are written with: the newest."""
    return LAYOUTS[max(LAYOUTS)]


def batch_rows(device_id: int, samples: list[tuple[int, float, dict]], received_at: float,
               layout: Layout | None = None) -> list[dict]:
    """``health_batches`` rows for new samples ``(seq, at, data)`` given in sequence order, written with
    ``layout`` (default: the current one)."""
    layout = layout or current_layout()
    by_day: dict[int, list[tuple[int, float, dict]]] = {}
    for sample in samples:
        by_day.setdefault(int(sample[1] // 86400), []).append(sample)
    names = layout.names[2:]
    rows = []
    for day_samples in by_day.values():
        ats = [at for _seq, at, _data in day_samples]
        rows.append({
            "device_id": device_id, "first_seq": day_samples[0][0], "last_seq": day_samples[-1][0],
            "at_first": min(ats), "at_last": max(ats), "received_at": received_at,
            "samples": encode([[seq, at, *map(data.get, names)] for seq, at, data in day_samples], layout),
        })
    return rows


def encode(sample_values: list[list], layout: Layout | None = None) -> bytes:
    """Rows of ``layout.names`` values (None: no value) -> the stored bytes."""
    layout = layout or current_layout()
    packed = array("d", [_NAN if value is None else value for values in sample_values for value in values])
    if not _LITTLE_ENDIAN:
        packed.byteswap()
    return bytes((layout.version,)) + zlib.compress(packed.tobytes(), 1)


def _unpack(stored: bytes) -> tuple[Layout, bytes]:
    """The layout of a stored row and its uncompressed values."""
    if not stored:
        raise ValueError("stored samples: empty")
    if stored[0] == _UNVERSIONED:
        return LAYOUTS[1], zlib.decompress(stored)
    layout = LAYOUTS.get(stored[0])
    if layout is None:
        raise ValueError(f"stored samples: layout {stored[0]} is unknown to this version of the store "
                         f"(it knows {', '.join(map(str, sorted(LAYOUTS)))})")
    return layout, zlib.decompress(stored[1:])


def _typed(kind: str, value: float):
    if value != value:  # NaN
        return None
    if kind == "integer":
        return int(value)
    if kind == "boolean":
        return bool(value)
    return value


def decode(stored: bytes) -> list[dict]:
    """The samples of one row, each as a mapping of its layout's field names to values (a field its
    layout did not have is absent)."""
    layout, raw = _unpack(bytes(stored))
    packed = array("d", raw)
    if not _LITTLE_ENDIAN:
        packed.byteswap()
    width = len(layout.names)
    if len(packed) % width:
        raise ValueError(f"stored samples: {len(packed)} values is not a whole number of {width}-value samples "
                         f"(layout {layout.version})")
    return [{name: _typed(kind, value) for name, kind, value in zip(layout.names, layout.kinds, packed[start:start + width])}
            for start in range(0, len(packed), width)]


def seqs_in(stored: bytes) -> list[int]:
    """The sequence numbers of one row (the first value of each sample)."""
    layout, raw = _unpack(bytes(stored))
    width = 8 * len(layout.names)
    return [int(struct.unpack_from("<d", raw, start)[0]) for start in range(0, len(raw), width)]


def stored_samples(connection: sa.Connection, device_id: int | None = None) -> list[dict]:
    """Every raw sample kept (of one device, or of all), each with its ``device_id``, by device and seq."""
    query = sa.select(health_batches.c.device_id, health_batches.c.samples).order_by(
        health_batches.c.device_id, health_batches.c.last_seq)
    if device_id is not None:
        query = query.where(health_batches.c.device_id == device_id)
    return [dict(sample, device_id=owner) for owner, stored in connection.execute(query)
            for sample in decode(stored)]


def stored_seqs(connection: sa.Connection, device_id: int | None = None) -> list[int]:
    return [sample["seq"] for sample in stored_samples(connection, device_id)]


def overlapping_seqs(rows: Iterable[tuple[bytes]], low: int, high: int) -> set[int]:
    """Sequence numbers within ``[low, high]`` among rows of ``samples`` (the ingest's replay check)."""
    return {seq for (stored,) in rows for seq in seqs_in(bytes(stored)) if low <= seq <= high}
