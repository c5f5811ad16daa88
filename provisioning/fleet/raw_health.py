"""Raw health samples as the store keeps them: one ``health_batches`` row per check-in and UTC day.

A row's ``samples`` column is a compact JSON array with one ``[seq, at, *HEALTH_FIELDS]`` array per
sample, in sequence order, compressed with zlib (samples repeat themselves: a check-in's 20 take about
300 bytes instead of 2 KB, so a row takes a fraction of a page). A check-in's samples normally span a few minutes, so they make one row; a
backlog sent after days offline makes one row per day, so the retention prune (by ``at_last``) keeps
raw samples to within a day of the retention setting.
"""

from __future__ import annotations

import json
import zlib
from typing import Iterable

import sqlalchemy as sa

from kiosk.protocol import HEALTH_FIELDS
from provisioning.fleet.schema import health_batches

SAMPLE_FIELDS = ("seq", "at") + HEALTH_FIELDS
_encode = json.JSONEncoder(separators=(",", ":")).encode


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
    return zlib.compress(_encode(sample_values).encode(), 1)


def _values(stored: bytes) -> list[list]:
    return json.loads(zlib.decompress(stored))


def decode(stored: bytes) -> list[dict]:
    """The samples of one row, each as a mapping of :data:`SAMPLE_FIELDS` to values."""
    return [dict(zip(SAMPLE_FIELDS, values)) for values in _values(stored)]


def seqs_in(stored: bytes) -> list[int]:
    return [values[0] for values in _values(stored)]


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
