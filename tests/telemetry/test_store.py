"""The store on SQLite and PostgreSQL: at-most-once ingest (Hypothesis), identity by asset tag,
token revocation and rotation, retention (the migrations: tests/store/test_migrations.py)."""

from __future__ import annotations

import itertools
import time
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy import func, select

from telemetry_helpers import health_record, new_code, usage_record
from provisioning.fleet.store import raw_health, schema
from provisioning.fleet.store.staff_schema import usage_commune_daily
from provisioning.fleet.enrolment import create_enrolment_code, enrol, request_rotation, revoke_tokens
from provisioning.fleet.errors import ApiError
from provisioning.fleet.store.ingest import authenticate, ingest

DAY = "2026-03-14"
_tags = itertools.count(1000)


_communes = itertools.count(10000)


def _enrolled(engine, tag: str | None = None, insee: str = "65059") -> tuple[str, int]:
    tag = tag or f"AB-{next(_tags)}"
    result = enrol(engine, new_code(engine, insee), tag, insee, time.time())
    return result["token"], result["device_id"]


def _checkin(engine, token, records):
    return ingest(engine, authenticate(engine, token), records, time.time())


batches = st.lists(
    st.lists(st.tuples(st.integers(1, 40), st.sampled_from(["health", "usage"]), st.integers(0, 5)),
             min_size=0, max_size=12, unique_by=lambda item: item[0]),
    min_size=1, max_size=6)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=batches)
def test_each_record_is_stored_at_most_once_whatever_the_replays(engine, batches):
    """Batches overlap and repeat (lost answers, retries): every (device, seq) is stored once, counters
    (per commune; the machine's own metrics also per device) equal the sum over distinct records, and
    every batch is fully acknowledged."""
    insee = f"{next(_communes):05d}"  # a commune of its own: its counters are this machine's
    token, device_id = _enrolled(engine, insee=insee)
    now = time.time()
    first_kind: dict[int, tuple[str, int]] = {}
    for batch in batches:
        records = []
        for seq, kind, count in batch:
            kind, count = first_kind.setdefault(seq, (kind, count))  # a seq always carries the same record
            records.append(health_record(seq, now) if kind == "health"
                           else usage_record(seq, DAY, [["sessions", "", count], ["tile_opened", "impots", 1],
                                                        ["kiosk_started", "", 1]], now))
        answer = _checkin(engine, token, records)
        assert answer["acked"] == sorted(seq for seq, _, _ in batch)
    expected_health = sum(1 for kind, _ in first_kind.values() if kind == "health")
    expected_sessions = sum(count for kind, count in first_kind.values() if kind == "usage")
    expected_usage = sum(1 for kind, _ in first_kind.values() if kind == "usage")
    with engine.connect() as connection:
        health_seqs = raw_health.stored_seqs(connection, device_id)
        health = len(health_seqs)
        rolled = connection.execute(select(func.coalesce(func.sum(schema.health_hourly.c.samples), 0))
                                    .where(schema.health_hourly.c.device_id == device_id)).scalar_one()
        counters = dict(connection.execute(
            select(usage_commune_daily.c.metric, usage_commune_daily.c.count)
            .where(usage_commune_daily.c.commune_insee == insee)).all())
        per_device = dict(connection.execute(
            select(schema.usage_daily.c.metric, schema.usage_daily.c.count)
            .where(schema.usage_daily.c.device_id == device_id)).all())
        last_seq = connection.execute(select(schema.devices.c.last_seq)
                                      .where(schema.devices.c.id == device_id)).scalar_one()
    assert health == rolled == expected_health and len(set(health_seqs)) == health
    assert sorted(health_seqs) == sorted(seq for seq, (kind, _) in first_kind.items() if kind == "health")
    assert counters.get("sessions", 0) == expected_sessions
    assert counters.get("tile_opened", 0) == expected_usage
    assert counters.get("kiosk_started", 0) == per_device.get("kiosk_started", 0) == expected_usage
    assert set(per_device) <= {"kiosk_started"}  # resident-facing use is never kept per machine
    assert last_seq == max(first_kind, default=0)


def test_rollups_keep_sums_and_maxima(engine):
    token, device_id = _enrolled(engine)
    day = (int(time.time()) // 86400 - 1) * 86400
    hour = day + 22 * 3600  # 22:00 and 23:00 UTC, then 00:00 the day after
    records = [health_record(1, hour + 10, cpu=10.0), health_record(2, hour + 20, cpu=30.0),
               health_record(3, hour + 3600 + 5, cpu=50.0), health_record(4, hour + 7200 + 5, cpu=20.0)]
    _checkin(engine, token, records)
    _checkin(engine, token, [health_record(5, hour + 30, cpu=35.0)])  # later, into existing hour and day
    with engine.connect() as connection:
        rows = {table.name: connection.execute(select(table).where(table.c.device_id == device_id)
                                               .order_by(table.c.period_start)).mappings().all()
                for table in (schema.health_hourly, schema.health_daily)}
    assert [(row["period_start"], row["samples"], row["cpu_sum"], row["cpu_n"], row["cpu_max"])
            for row in rows["health_hourly"]] == [
        (hour, 3, 75.0, 3, 35.0), (hour + 3600, 1, 50.0, 1, 50.0), (hour + 7200, 1, 20.0, 1, 20.0)]
    assert [(row["period_start"], row["samples"], row["cpu_sum"], row["cpu_n"], row["cpu_max"])
            for row in rows["health_daily"]] == [(day, 4, 125.0, 4, 50.0), (day + 86400, 1, 20.0, 1, 20.0)]


def test_identity_is_the_asset_tag_never_the_serial(engine):
    """Two machines with the same OEM placeholder serial and a cloned image's UUID stay two machines;
    reinstalling one (same tag) keeps its history and continues its sequence numbers."""
    clone = {"vendor": "LENOVO", "model": "ThinkCentre M73", "serial": "To be filled by O.E.M.",
             "uuid": "03000200-0400-0500-0006-000700080009", "macs": ["aa:bb:cc:00:00:01"]}
    token_a, device_a = _enrolled(engine, "AB-0001")
    token_b, device_b = _enrolled(engine, "AB-0002")
    now = time.time()
    for token in (token_a, token_b):
        _checkin(engine, token, [{"seq": 1, "at": now, "type": "inventory", "data": clone}, health_record(2, now)])
    assert device_a != device_b
    # A reinstall of a machine that is checking in: a code made for its tag (enrolment takeover rules:
    # tests/telemetry/test_enrolment_takeover.py).
    reinstall = create_enrolment_code(engine, "65059", time.time(), 30, asset_tag="AB-0001")
    again = enrol(engine, reinstall, "AB-0001", "65059", time.time())
    assert again["device_id"] == device_a and again["seq_base"] == 2
    with pytest.raises(ApiError) as refused:
        authenticate(engine, token_a)
    assert refused.value.status == 401
    _checkin(engine, again["token"], [health_record(again["seq_base"] + 1, now)])
    with engine.connect() as connection:
        per_device = Counter(sample["device_id"] for sample in raw_health.stored_samples(connection))
        devices = connection.execute(select(func.count()).select_from(schema.devices)).scalar_one()
        serials = connection.execute(select(schema.inventory_reports.c.device_id)
                                     .where(schema.inventory_reports.c.serial == clone["serial"])).scalars().all()
    assert devices == 2 and per_device == {device_a: 2, device_b: 1}
    assert sorted(serials) == sorted([device_a, device_b])


def test_a_code_works_once_and_only_for_its_commune(engine):
    code = new_code(engine)
    with pytest.raises(ApiError) as other:
        enrol(engine, code, "AB-0100", "31042", time.time())
    assert other.value.status == 403
    lost = enrol(engine, code, "AB-0100", "65059", time.time())
    with pytest.raises(ApiError) as reused:
        enrol(engine, code, "AB-0101", "65059", time.time())
    assert reused.value.status == 403
    # The answer was lost (agent killed before saving its token): the same machine may ask again,
    # the unused token dies, and once the new token has checked in the code is spent for good.
    again = enrol(engine, code, "AB-0100", "65059", time.time())
    assert again["device_id"] == lost["device_id"]
    with pytest.raises(ApiError):
        authenticate(engine, lost["token"])
    _checkin(engine, again["token"], [health_record(1)])
    with pytest.raises(ApiError) as spent:
        enrol(engine, code, "AB-0100", "65059", time.time())
    assert spent.value.status == 403


def test_revoked_token_is_refused_and_rotation_hands_over_cleanly(engine):
    token, _ = _enrolled(engine, "AB-0200")
    request_rotation(engine, "AB-0200", time.time())
    first = _checkin(engine, token, [health_record(1)])
    lost = first["token"]                                  # suppose this answer never arrived...
    second = _checkin(engine, token, [health_record(1)])   # ...the old token still works and gets another
    new_token = second["token"]
    assert new_token != lost
    with pytest.raises(ApiError):
        authenticate(engine, lost)                         # the lost one was replaced
    assert "token" not in _checkin(engine, new_token, [health_record(2)])
    with pytest.raises(ApiError):
        authenticate(engine, token)                        # first use of the new token retires the old one
    revoke_tokens(engine, "AB-0200", time.time())
    with pytest.raises(ApiError) as revoked:
        authenticate(engine, new_token)
    assert "revoked" in revoked.value.error


def test_a_revocation_committed_during_a_checkin_refuses_it_and_stores_nothing(engine):
    """The token is checked, then revoked before the check-in's transaction starts: the transaction sees
    the revocation (first statement), answers 401 and rolls everything back."""
    token, device_id = _enrolled(engine)
    auth = authenticate(engine, token)
    revoke_tokens(engine, _asset_tag(engine, device_id), time.time())
    with pytest.raises(ApiError) as refused:
        ingest(engine, auth, [health_record(1), usage_record(2, DAY, [["sessions", "", 3]])], time.time())
    assert refused.value.status == 401 and "revoked" in refused.value.error
    with engine.connect() as connection:
        for table in (schema.health_batches, schema.usage_reports, schema.usage_daily, schema.health_hourly):
            assert connection.execute(select(func.count()).select_from(table)
                                      .where(table.c.device_id == device_id)).scalar_one() == 0
        assert connection.execute(select(schema.devices.c.last_seq)
                                  .where(schema.devices.c.id == device_id)).scalar_one() == 0


def _asset_tag(engine, device_id: int) -> str:
    with engine.connect() as connection:
        return connection.execute(select(schema.devices.c.asset_tag)
                                  .where(schema.devices.c.id == device_id)).scalar_one()


def test_retention_drops_old_raw_health_and_keeps_rollups(engine):
    from provisioning.fleet.store.retention import prune
    from provisioning.fleet.settings import Settings
    token, device_id = _enrolled(engine)
    now = time.time()
    old, recent = now - 31 * 86400, now - 29 * 86400
    _checkin(engine, token, [health_record(1, old), health_record(2, recent),
                             usage_record(3, "2023-01-01", [["sessions", "", 4], ["kiosk_started", "", 1]], old),
                             usage_record(4, time.strftime("%Y-%m-%d"), [["sessions", "", 2]], now)])
    removed = prune(engine, Settings(testing=True), now)
    assert removed["health_batches"] == 1 and removed["usage_daily"] == 1
    assert removed["dash_usage_commune_daily"] == 2
    with engine.connect() as connection:
        kept = raw_health.stored_seqs(connection)
        hourly = connection.execute(select(func.sum(schema.health_hourly.c.samples))).scalar_one()
        daily = connection.execute(select(func.sum(schema.health_daily.c.samples))).scalar_one()
    assert kept == [2] and hourly == 2 and daily == 2
    # A lost answer replayed after the raw row was pruned is not counted twice in the roll-ups.
    auth = authenticate(engine, token)
    ingest(engine, auth, [health_record(1, old)], now, raw_health_cutoff=now - 30 * 86400)
    with engine.connect() as connection:
        assert connection.execute(select(func.sum(schema.health_hourly.c.samples))).scalar_one() == 2
    shorter = prune(engine, Settings(testing=True, raw_health_retention_days=1), now)
    assert shorter["health_batches"] == 1



@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.lists(st.tuples(st.integers(1, 30), st.sampled_from(
    ["2025-12-31", "2026-01-01", "2026-01-31", "2026-02-01", "2026-02-28"]), st.integers(0, 4)),
    max_size=10, unique_by=lambda item: item[0]), min_size=1, max_size=5))
def test_monthly_counters_and_the_late_deadline_equal_what_the_raw_tables_give(engine, batches):
    """After replayed and overlapping check-ins across month ends: each commune's monthly counters equal
    its daily counters summed per month, and the machine's late_at (kept by triggers) equals its last
    check-in plus twice its commune's expected interval."""
    from provisioning.fleet.store.staff_schema import usage_commune_monthly
    insee = f"{next(_communes):05d}"
    token, device_id = _enrolled(engine, insee=insee)
    first: dict[int, tuple[str, int]] = {}
    for batch in batches:
        records = []
        for seq, day, count in batch:
            day, count = first.setdefault(seq, (day, count))
            records.append(usage_record(seq, day, [["sessions", "", count], ["tile_opened", "impots", 1]]))
        _checkin(engine, token, records)
    with engine.connect() as connection:
        daily = usage_commune_daily
        expected = Counter()
        for metric, day, key, count in connection.execute(select(daily.c.metric, daily.c.day, daily.c.key, daily.c.count)
                                                          .where(daily.c.commune_insee == insee)):
            expected[(metric, day[:7], key)] += count
        monthly = usage_commune_monthly
        kept = {(metric, month, key): count for metric, month, key, count in connection.execute(
            select(monthly.c.metric, monthly.c.month, monthly.c.key, monthly.c.count)
            .where(monthly.c.commune_insee == insee))}
        assert kept == {slot: count for slot, count in expected.items()}
        late_at, last_seen, interval = connection.execute(
            select(schema.devices.c.late_at, schema.devices.c.last_seen_at, schema.communes.c.expected_interval_s)
            .join(schema.communes, schema.communes.c.insee == schema.devices.c.commune_insee)
            .where(schema.devices.c.id == device_id)).one()
        assert last_seen is not None and late_at == pytest.approx(last_seen + 2 * interval)
