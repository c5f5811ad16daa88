"""Raw health samples as the store keeps them: one ``health_batches`` row per check-in and UTC day.

A row's ``samples`` column holds, per sample in sequence order, the values of :data:`SAMPLE_FIELDS` as
little-endian float64 (NaN: no value), the whole compressed with zlib. Every value the protocol accepts
fits a float64 exactly (integers are below 2**53). Samples repeat themselves: a check-in's 20 take about
350 bytes, so a row takes a fraction of a page; and packing floats costs far less than writing JSON.

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
from typing import Iterable

import sqlalchemy as sa

from kiosk.protocol import HEALTH_FIELDS
from kiosk.protocol.validate import HEALTH_SPEC
from provisioning.fleet.store.schema import health_batches

SAMPLE_FIELDS = ("seq", "at") + HEALTH_FIELDS
_KINDS = ("integer", "number") + tuple(HEALTH_SPEC[name][0] for name in HEALTH_FIELDS)
_NAN = math.nan
_LITTLE_ENDIAN = sys.byteorder == "little"


def batch_rows(device_id: int, samples: list[tuple[int, float, dict]], received_at: float) -> list[dict]:
    """``health_batches`` rows for new samples ``(seq, at, data)`` given in sequence order."""
    by_day: dict[int, list[tuple[int, float, dict]]] = {}
    for sample in samples:
        by_day.setdefault(int(sample[1] // 86400), []).append(sample)
    rows = []
    for day_samples in by_day.values():
        ats = [at for _seq, at, _data in day_samples]
        rows.append({
            "device_id": device_id, "first_seq": day_samples[0][0], "last_seq": day_samples[-1][0],
            "at_first": min(ats), "at_last": max(ats), "received_at": received_at,
            "samples": encode([[seq, at, *map(data.get, HEALTH_FIELDS)] for seq, at, data in day_samples]),
        })
    return rows


def encode(sample_values: list[list]) -> bytes:
    """Rows of :data:`SAMPLE_FIELDS` values (None: no value) -> the stored bytes."""
    packed = array("d", [_NAN if value is None else value for values in sample_values for value in values])
    if not _LITTLE_ENDIAN:
        packed.byteswap()
    return zlib.compress(packed.tobytes(), 1)


def _typed(kind: str, value: float):
    if value != value:  # NaN
        return None
    if kind == "integer":
        return int(value)
    if kind == "boolean":
        return bool(value)
    return value


def _values(stored: bytes) -> list[list]:
    raw = zlib.decompress(stored)
    packed = array("d", raw)
    if not _LITTLE_ENDIAN:
        packed.byteswap()
    width = len(SAMPLE_FIELDS)
    if len(packed) % width:
        raise ValueError(f"stored samples: {len(packed)} values is not a whole number of {width}-value samples")
    return [[_typed(kind, value) for kind, value in zip(_KINDS, packed[start:start + width])]
            for start in range(0, len(packed), width)]


def decode(stored: bytes) -> list[dict]:
    """The samples of one row, each as a mapping of :data:`SAMPLE_FIELDS` to values."""
    return [dict(zip(SAMPLE_FIELDS, values)) for values in _values(bytes(stored))]


def seqs_in(stored: bytes) -> list[int]:
    """The sequence numbers of one row (the first value of each sample)."""
    raw = zlib.decompress(bytes(stored))
    width = 8 * len(SAMPLE_FIELDS)
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
