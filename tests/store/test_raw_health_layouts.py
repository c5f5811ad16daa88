"""Raw health rows carry the layout they were written with; the layouts are declared by the store.

When the protocol gains a field, the store gains a layout (a new version naming that field); rows written
before keep theirs and stay readable, next to rows written after, on SQLite and PostgreSQL."""

from __future__ import annotations

import time
import zlib

import pytest
import sqlalchemy as sa

from kiosk.protocol import HEALTH_FIELDS
from kiosk.protocol.validate import HEALTH_SPEC
from provisioning.fleet.enrolment import create_enrolment_code, enrol
from provisioning.fleet.store import raw_health
from provisioning.fleet.store.ingest import authenticate, ingest
from provisioning.fleet.store.schema import health_batches, health_hourly

T0 = 1_760_000_000.0
# What a developer adds when the protocol gains a field: a new layout, never an edited one.
LAYOUT_2 = raw_health.Layout(2, raw_health.LAYOUT_1.fields + (("fan_rpm", "integer"),))


def _health(seq: int, at: float, **extra) -> dict:
    return {"seq": seq, "at": at, "type": "health",
            "data": {"cpu_percent": 10.0 + seq, "battery_plugged": seq % 2 == 0, "kiosk_restarts": seq, **extra}}


def _device(engine) -> str:
    code = create_enrolment_code(engine, "65059", time.time(), 30, name="Bagnères-de-Bigorre")
    return enrol(engine, code, "AB-0042", "65059", time.time())["token"]


def test_the_current_layout_stores_every_field_the_protocol_sends_with_its_kind():
    """The guard for the next field: adding one to the protocol fails here until a layout names it."""
    layout = raw_health.current_layout()
    assert layout.names[2:] == HEALTH_FIELDS
    assert layout.kinds[2:] == tuple(HEALTH_SPEC[name][0] for name in HEALTH_FIELDS)


def test_rows_written_before_a_field_was_added_stay_readable(store_engine, monkeypatch):
    engine = store_engine
    token = _device(engine)
    ingest(engine, authenticate(engine, token), [_health(1, T0), _health(2, T0 + 60)], T0 + 61)

    monkeypatch.setitem(raw_health.LAYOUTS, 2, LAYOUT_2)  # the protocol now sends fan_rpm
    assert raw_health.current_layout() is LAYOUT_2
    ingest(engine, authenticate(engine, token), [_health(3, T0 + 120, fan_rpm=1800)], T0 + 121)
    # A retry of the first batch, read against rows of both layouts, is acknowledged and stored once.
    answer = ingest(engine, authenticate(engine, token), [_health(1, T0), _health(2, T0 + 60)], T0 + 180)
    assert answer["acked"] == [1, 2]

    with engine.connect() as connection:
        stored = [bytes(row.samples) for row in connection.execute(
            sa.select(health_batches.c.samples).order_by(health_batches.c.last_seq))]
        samples = raw_health.stored_samples(connection)
        hourly = connection.execute(sa.select(health_hourly.c.samples)).scalars().all()
    assert [row[0] for row in stored] == [1, 2]  # each row says its layout
    assert [(s["seq"], s["cpu_percent"], s["battery_plugged"], s["kiosk_restarts"], s.get("fan_rpm"))
            for s in samples] == [(1, 11.0, False, 1, None), (2, 12.0, True, 2, None), (3, 13.0, False, 3, 1800)]
    assert "fan_rpm" not in samples[0] and type(samples[2]["fan_rpm"]) is int
    assert sum(hourly) == 3


def test_rows_written_before_layouts_were_versioned_read_as_layout_1():
    """Migration 0004 (and the store until layouts were versioned) wrote a bare zlib stream."""
    row = raw_health.batch_rows(7, [(5, T0, {"cpu_percent": 50.5, "kiosk_restarts": 2})], T0,
                                layout=raw_health.LAYOUT_1)[0]
    unversioned = row["samples"][1:]
    assert unversioned[0] == 0x78 and zlib.decompress(unversioned)
    assert raw_health.decode(unversioned) == raw_health.decode(row["samples"])
    assert raw_health.decode(unversioned)[0]["cpu_percent"] == 50.5 and raw_health.seqs_in(unversioned) == [5]


def test_a_row_of_an_unknown_layout_is_refused_with_a_clear_error():
    stored = raw_health.encode([[1, T0] + [None] * len(LAYOUT_2.fields)], LAYOUT_2)
    with pytest.raises(ValueError, match="layout 2 is unknown to this version of the store"):
        raw_health.decode(stored)


def test_a_layout_version_cannot_look_like_an_unversioned_row():
    with pytest.raises(ValueError, match="1 to 119"):
        raw_health.Layout(0x78, ())
