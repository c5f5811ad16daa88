""""À traiter d'abord": after any sequence of enrolments, check-ins, moves, profile changes, crashes and
retirements, the overview read through its indexes (``devices.late_at`` kept by triggers, partial
indexes) lists exactly the machines, severities, "since" and counts recomputed here from the raw
columns with the rules written out independently, page after page, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from postgres_schemas import migrated_store

NOW = 2_000_000_000.0
DAY = 86400
COMMUNES = (("31042", "Bagnères-de-Luchon", 86400), ("65286", "Lourdes", 300), ("09122", "Foix", 3600))
VERSIONS = ("0.9.0", "1.0.0", "1.2.0", "1.10.0", "pas-une-version", None)
EXPECTED = "1.2.0"  # older: 0.9.0 and 1.0.0 (1.10.0 is newer, although it sorts before as text)
AGES = (None, 10, 500, 700, 3000, 7300, 20000, 2 * DAY + 1, 7 * DAY, 31 * DAY, 40 * DAY)
LIFECYCLES = ("deployed", "returned", "recycled")
ORDER = ("lost", "offline", "crash_loop", "disk_full", "outdated", "late", "ok")


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request, tmp_path_factory):
    with migrated_store(request.param, tmp_path_factory.mktemp("attention"), "attention") as engine:
        yield engine


operations = st.lists(st.one_of(
    st.tuples(st.just("enrol"), st.integers(0, 2), st.floats(0, 400 * DAY)),
    st.tuples(st.just("checkin"), st.integers(0, 6), st.sampled_from(AGES[1:]),
              st.sampled_from((None, 50.0, 90.0, 99.5)), st.sampled_from((None, 40.0, 95.0)),
              st.sampled_from((None, 50.0, 85.0)), st.sampled_from(VERSIONS)),
    st.tuples(st.just("move"), st.integers(0, 6), st.integers(0, 2)),
    st.tuples(st.just("profile"), st.integers(0, 2), st.sampled_from((300, 3600, 86400, 7 * DAY))),
    st.tuples(st.just("crashes"), st.integers(0, 6), st.integers(0, 5)),
    st.tuples(st.just("lifecycle"), st.integers(0, 6), st.sampled_from(LIFECYCLES)),
), min_size=1, max_size=40)


def apply(conn, ops) -> None:
    from provisioning.fleet.store.schema import communes, devices
    from provisioning.fleet.store.staff_schema import machine_assets
    for table in ("dash_machine_assets", "devices", "communes"):
        conn.exec_driver_sql(f"DELETE FROM {table}")
    conn.execute(communes.insert(), [{"insee": insee, "name": name, "expected_interval_s": interval, "created_at": 0}
                                     for insee, name, interval in COMMUNES])
    tags: list[str] = []
    for op in ops:
        kind = op[0]
        if kind == "enrol":
            tags.append(f"AT-{len(tags):03d}")
            conn.execute(devices.insert().values(asset_tag=tags[-1], commune_insee=COMMUNES[op[1]][0],
                                                 enrolled_at=NOW - op[2]))
            continue
        if kind == "profile":
            conn.execute(communes.update().where(communes.c.insee == COMMUNES[op[1]][0])
                         .values(expected_interval_s=op[2]))
            continue
        if not tags:
            continue
        tag = tags[op[1] % len(tags)]
        device = devices.update().where(devices.c.asset_tag == tag)
        if kind == "checkin":
            conn.execute(device.values(last_seen_at=NOW - op[2], health_at=NOW - op[2], disk_used_percent=op[3],
                                       memory_used_percent=op[4], temperature_max_c=op[5], kiosk_version=op[6]))
        elif kind == "move":
            conn.execute(device.values(commune_insee=COMMUNES[op[2]][0]))
        else:
            values = {"crashes_7d": op[2]} if kind == "crashes" else {"lifecycle_state": op[2]}
            exists = conn.execute(sa.select(machine_assets.c.asset_tag).where(machine_assets.c.asset_tag == tag)).first()
            if exists:
                conn.execute(machine_assets.update().where(machine_assets.c.asset_tag == tag).values(**values))
            else:
                conn.execute(machine_assets.insert().values(
                    **{"asset_tag": tag, "lifecycle_state": "deployed", "crashes_7d": 0, **values}))


def older(version) -> bool:
    return version in ("0.9.0", "1.0.0")


def expected_view(conn, lifecycle: str | None):
    """The overview recomputed from the raw columns: (rows in order, status counts, flag counts)."""
    rows = conn.exec_driver_sql(
        "SELECT d.asset_tag, d.last_seen_at, d.enrolled_at, d.kiosk_version, d.disk_used_percent, "
        "d.memory_used_percent, d.temperature_max_c, c.name, c.expected_interval_s, a.crashes_7d, a.lifecycle_state "
        "FROM devices d JOIN communes c ON c.insee = d.commune_insee "
        "LEFT JOIN dash_machine_assets a ON a.asset_tag = d.asset_tag").all()
    listed, statuses, flags = [], dict.fromkeys(("online", "late", "offline", "missing"), 0), {}
    for tag, last, enrolled, version, disk, memory, hot, commune, interval, crashes, state in rows:
        if lifecycle and (state or "deployed") != lifecycle:
            continue
        late_limit = max(6 * interval, 7200)
        if last is None or (NOW - last > late_limit and NOW - last > 30 * DAY):
            status, since = "missing", enrolled if last is None else last + max(late_limit, 30 * DAY)
        elif NOW - last > late_limit:
            status, since = "offline", last + late_limit
        elif NOW - last > 2 * interval:
            status, since = "late", last + 2 * interval
        else:
            status, since = "online", None
        statuses[status] += 1
        flagged = {"disk": (disk or 0) >= 90, "memory": (memory or 0) >= 90, "temperature": (hot or -100) >= 80,
                   "crashes": (crashes or 0) >= 3, "outdated": older(version)}
        for name, on in flagged.items():
            flags[name] = flags.get(name, 0) + on
        if status == "missing":
            severity = "lost"
        elif status == "offline":
            severity = "offline"
        elif flagged["crashes"]:
            severity = "crash_loop"
        elif flagged["disk"]:
            severity = "disk_full"
        elif flagged["outdated"]:
            severity = "outdated"
        else:
            severity = status.replace("online", "ok")
        if severity not in ("lost", "offline", "late"):
            since = None
        listed.append((ORDER.index(severity), commune, tag, severity,
                       None if since is None else round(since, 3)))
    listed.sort()
    return [row[2:] for row in listed], statuses, {name: flags.get(name, 0) for name in
                                                   ("disk", "memory", "temperature", "crashes", "outdated")}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations, page_size=st.sampled_from((1, 3, 50)))
def test_the_overview_read_through_its_indexes_equals_the_fleet_recomputed(store, ops, page_size):
    from provisioning.fleet.dashboard.fleet_queries import OverviewFilters, overview
    with store.connect() as conn:  # never committed: each example starts again from empty tables
        apply(conn, ops)
        # The maintained deadline equals the one recomputed from the raw columns, whoever wrote them.
        for tag, late_at, last, interval in conn.exec_driver_sql(
                "SELECT d.asset_tag, d.late_at, d.last_seen_at, c.expected_interval_s "
                "FROM devices d JOIN communes c ON c.insee = d.commune_insee"):
            assert late_at == (None if last is None else pytest.approx(last + 2 * interval)), tag
        for lifecycle in ("deployed", None):
            rows, statuses, flags = expected_view(conn, lifecycle)
            shown, page = [], 1
            while True:
                result = overview(conn, OverviewFilters(lifecycle=lifecycle, page=page), NOW, EXPECTED, None,
                                  page_size=page_size)
                assert result["status_counts"] == statuses and result["flag_counts"] == flags
                shown += [(row.asset_tag, row.severity,
                           None if row.since is None else round(row.since.timestamp(), 3)) for row in result["rows"]]
                assert all(row.since is None or row.since.tzinfo == dt.timezone.utc for row in result["rows"])
                if page >= result["pages"]:
                    break
                page += 1
            assert shown == rows
            # A narrower view (one status) is filtered by SQL, in the same order.
            narrowed = overview(conn, OverviewFilters(lifecycle=lifecycle, status="missing"), NOW, EXPECTED, None,
                                page_size=1000)
            assert [row.asset_tag for row in narrowed["rows"]] == [tag for tag, severity, _ in rows if severity == "lost"]
