"""Hostile input from a kiosk at the API boundary (issue 11 item 3, issue 15's validator items), on SQLite
and PostgreSQL, through the real app: what the validator refuses is a 4xx in the API's one error shape
naming the record, nothing of the batch is stored, and every page and export still answers; what it
accepts is stored and read back by every page and export (Hypothesis over the validator and the store).
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
import time
from urllib.parse import unquote

import pytest
from dashboard_helpers import LUCHON, database, enrol, health, inventory, make_app, seed, today, usage
from hypothesis import HealthCheck, given, settings, strategies as st

from kiosk.protocol import MAX_KEYED_COUNTERS_PER_CHECKIN, MAX_SEQ_ADVANCE, MAX_USAGE_COUNT, USAGE_KEY_KINDS
from kiosk.protocol.validate import validate_checkin


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def hostile(request, tmp_path_factory):
    """A seeded fleet, an admin client, and one more Luchon machine (HOST-001) that sends what it likes."""
    with database(request.param, tmp_path_factory.mktemp(f"hostile-{request.param}")) as url:
        app = make_app(url)
        fleet = seed(app)
        fleet.tokens["HOST-001"] = enrol(app, "HOST-001", LUCHON, "Bagnères-de-Luchon", 86400)
        fleet.next_seq = 1
        fleet.admin = fleet.client("admin")
        yield fleet
        app.extensions["fleet_engine"].dispose()


def send(fleet, records: list[dict] | None = None, raw: bytes | None = None, token: str | None = None):
    """POST a check-in as HOST-001 (``raw``: the JSON text as given, e.g. with lone-surrogate escapes)."""
    if raw is None:
        raw = json.dumps({"protocol": 1, "sent_at": time.time(), "records": records}).encode()
    return fleet.app.test_client().post(
        "/api/v1/checkin", data=gzip.compress(raw), content_type="application/json",
        headers={"Content-Encoding": "gzip", "Authorization": f"Bearer {token or fleet.tokens['HOST-001']}"})


def seqs(fleet, count: int) -> list[int]:
    first = fleet.next_seq
    fleet.next_seq += count
    return list(range(first, first + count))


def assert_refused(response, status: int, pointer: str) -> dict:
    body = response.get_json()
    assert response.status_code == status, body
    assert set(body) == {"ok", "error", "errors", "status"} and body["ok"] is False and body["status"] == status
    assert any(error.startswith(pointer) for error in body["errors"]), body["errors"]
    return body


def stored_rows(fleet) -> dict:
    import sqlalchemy as sa
    from provisioning.fleet.store import schema
    from provisioning.fleet.store import staff_schema as tables
    with fleet.app.extensions["fleet_engine"].connect() as conn:
        return {table.name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
                for table in (schema.health_batches, schema.usage_reports, schema.inventory_reports,
                              tables.usage_commune_daily, tables.usage_fleet_daily, tables.usage_inbox)}


def every_page_answers(fleet, first_day: str = "2020-01-01", years=()) -> int:
    """GET every dashboard page over the whole period, then every export they link to; returns how many."""
    client, fetched = fleet.admin, 0
    this_year = dt.datetime.now(dt.timezone.utc).year
    pages = ["/tableau/", "/tableau/?page=2", "/tableau/machines/HOST-001", "/tableau/communes",
             "/tableau/materiel", f"/tableau/communes/{LUCHON}"]
    pages += [f"/tableau/usage?du={first_day}&au={today(1)}&par={g}" for g in ("day", "week", "month")]
    pages += [f"/tableau/usage?du={first_day}&au={today(1)}&par=week&commune={LUCHON}"]
    pages += [f"/tableau/rapport?annee={year}" for year in sorted({this_year, *years})]
    exports = {"/tableau/export/glpi.json", "/tableau/export/parc.csv", "/tableau/export/materiel.csv",
               "/tableau/export/lieux-mediation-numerique.csv"}
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        fetched += 1
        html = response.get_data(as_text=True)
        exports.update(unquote(link).replace("&amp;", "&") for link in re.findall(r'href="(/tableau/export/[^"]+)"', html))
    for path in sorted(exports):
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        fetched += 1
    return fetched


# -- the three failures named in issue 11 ---------------------------------------------------------------

@pytest.mark.parametrize("case, field, text", [
    ("nul-in-serial", "serial", "CZC\\u00001234"),
    ("lone-high-surrogate-in-version", "kiosk_version", "1.0.0\\ud800"),
    ("lone-low-surrogate-in-model", "model", "\\udc00OptiPlex"),
    ("cesu-pair-in-vendor", "vendor", "\\ud83d\\ude00 Dell"),  # escaped pair: fine, one character
])
def test_text_the_databases_cannot_store_is_a_4xx_naming_the_record(hostile, case, field, text):
    before = stored_rows(hostile)
    good, bad = seqs(hostile, 2)
    records = [health(good, time.time() - 30), {**inventory(bad, "SN-1"), "data": {**inventory(bad, "SN-1")["data"],
                                                                                    field: "@@TEXT@@"}}]
    raw = json.dumps({"protocol": 1, "sent_at": time.time(), "records": records}).replace('"@@TEXT@@"', f'"{text}"')
    response = send(hostile, raw=raw.encode())
    if case == "cesu-pair-in-vendor":  # a surrogate *pair* escaped in JSON is a real character: stored
        assert response.status_code == 200, response.get_json()
        assert every_page_answers(hostile) > 10
        return
    body = assert_refused(response, 422, f"/records/1/data/{field}:")
    assert "NUL" in " ".join(body["errors"]) and len(body["errors"]) == 1
    assert stored_rows(hostile) == before, "nothing of a refused batch may be stored"
    assert send(hostile, [health(good, time.time() - 30)]).status_code == 200  # the good record alone goes in
    assert every_page_answers(hostile) > 10


def test_raw_bytes_of_a_surrogate_in_the_body_are_refused_naming_the_record(hostile):
    """UTF-8-encoded surrogates (CESU-8, not UTF-8) in the body itself, not as JSON escapes."""
    (seq,) = seqs(hostile, 1)
    raw = json.dumps({"protocol": 1, "sent_at": time.time(), "records": [inventory(seq, "@@")]}).encode()
    raw = raw.replace(b'"@@"', b'"SN-\xed\xa0\x80"')
    assert_refused(send(hostile, raw=raw), 422, "/records/0/data/serial:")


@pytest.mark.parametrize("day", ["2026-09-31", "2026-02-29", "2025-06-31", "2027-02-30"])
def test_a_day_that_is_not_in_the_calendar_is_refused_and_the_weekly_view_answers(hostile, day):
    before = stored_rows(hostile)
    first, second = seqs(hostile, 2)
    response = send(hostile, [usage(first, today(), [["sessions", "", 1]]),
                              usage(second, day, [["sessions", "", 2], ["tile_opened", "ameli", 1]])])
    body = assert_refused(response, 422, "/records/1/data/day:")
    assert day in body["errors"][0] and "calendar" in body["errors"][0]
    assert stored_rows(hostile) == before
    client = hostile.admin
    for path in (f"/tableau/usage?du=2025-06-01&au={today(1)}&par=week",
                 f"/tableau/export/usage/sessions-par-semaine.csv?du=2025-06-01&au={today(1)}&par=week"):
        assert client.get(path).status_code == 200, path


def test_a_day_after_the_kiosks_today_is_refused(hostile):
    (seq,) = seqs(hostile, 1)
    later = (dt.datetime.now(dt.timezone.utc).date() + dt.timedelta(days=3)).isoformat()
    assert_refused(send(hostile, [usage(seq, later, [["sessions", "", 1]])]), 422, "/records/0/data/day:")


@pytest.mark.parametrize("path", ["/api/v1/checkin", "/api/v1/enrol"])
@pytest.mark.parametrize("depth", [100_000, 5000])
def test_deeply_nested_json_is_a_400_not_a_500(hostile, path, depth):
    raw = b'{"protocol": 1, "sent_at": 1764000000, "records": ' + b"[" * depth + b"]" * depth + b"}"
    response = hostile.app.test_client().post(
        path, data=gzip.compress(raw), content_type="application/json",
        headers={"Content-Encoding": "gzip", "Authorization": f"Bearer {hostile.tokens['HOST-001']}"})
    body = response.get_json()
    assert response.status_code == 400, body
    assert body == {"ok": False, "error": "the body is not valid JSON", "status": 400,
                    "errors": ["arrays and objects are nested too deeply"]}


def test_nesting_the_decoder_allows_is_still_a_clean_422(hostile):
    """Deep enough to hurt a recursive repr, shallow enough for the decoder: the validator quotes no value."""
    (seq,) = seqs(hostile, 1)
    nested = "[" * 600 + "]" * 600
    raw = (f'{{"protocol": 1, "sent_at": {time.time()}, "records": [{{"seq": {seq}, "at": {time.time()}, '
           f'"type": "health", "data": {{"cpu_percent": {nested}}}}}]}}')
    body = assert_refused(send(hostile, raw=raw.encode()), 422, "/records/0/data/cpu_percent:")
    assert len(body["errors"][0]) < 200


def test_a_hostile_field_name_is_quoted_short_and_safely(hostile):
    (seq,) = seqs(hostile, 1)
    record = {**inventory(seq, "SN"), "data": {"x" * 100_000 + "\x00": 1}}
    body = assert_refused(send(hostile, [record]), 422, "/records/0/data/xxxx")
    assert len(body["errors"][0]) < 300 and "\x00" not in body["errors"][0]


# -- issue 15: usage keys, sequence numbers and counters bounded ------------------------------------------

def test_usage_keys_are_the_known_counters_and_tiles(hostile):
    before = stored_rows(hostile)
    (seq,) = seqs(hostile, 1)
    counters = [["sessions", "impots", 1], ["session_length", "3h", 1], ["tile_opened", "Ameli", 1],
                ["tile_opened", "www.ameli.fr", 1], ["pages_printed", "", 1], ["navigation_refused", "a/b", 1]]
    body = assert_refused(send(hostile, [usage(seq, today(), counters)]), 422, "/records/0/data/counters/0/1:")
    wrong = {error.split(":")[0] for error in body["errors"]}
    assert wrong == {f"/records/0/data/counters/{i}/1" for i in (0, 1, 2, 3, 5)}
    assert stored_rows(hostile) == before


def test_distinct_tile_keys_per_checkin_are_bounded(hostile):
    """Issue 15: one check-in with 200,000 distinct tile keys was accepted (36 MB of store, a 15 MB page)."""
    before = stored_rows(hostile)
    numbers = seqs(hostile, 500)
    records = [usage(seq, today(), [["tile_opened", f"t{index}-{n}", 1] for n in range(200)])
               for index, seq in enumerate(numbers)]
    assert sum(len(r["data"]["counters"]) for r in records) == 100_000
    body = assert_refused(send(hostile, records), 422, "/records/1/data/counters/0/1:")
    assert f"at most {MAX_KEYED_COUNTERS_PER_CHECKIN}" in body["errors"][0]
    assert stored_rows(hostile) == before
    # As many as a kiosk really has, in one check-in, are fine.
    fine = seqs(hostile, 2)
    assert send(hostile, [usage(fine[0], today(), [["tile_opened", f"tuile-{n}", 1] for n in range(100)]),
                          usage(fine[1], today(-1), [["navigation_refused", f"h{n}.example.org", 1]
                                                     for n in range(100)])]).status_code == 200
    assert len(hostile.admin.get("/tableau/usage").get_data()) < 2_000_000


def test_counts_are_bounded_so_sums_never_overflow(hostile):
    (seq,) = seqs(hostile, 1)
    for count in (MAX_USAGE_COUNT + 1, 2**63, 10**9):
        assert_refused(send(hostile, [usage(seq, today(), [["sessions", "", count]])]), 422,
                       "/records/0/data/counters/0/2:")
    # The most one check-in may add to one counter, many times over: every sum still reads back.
    for _ in range(3):
        numbers = seqs(hostile, 500)
        assert send(hostile, [usage(n, today(), [["pages_printed", "", MAX_USAGE_COUNT]])
                              for n in numbers]).status_code == 200
    assert every_page_answers(hostile) > 10


def test_sequence_numbers_cannot_use_up_a_machines_identity(hostile):
    """Issue 15: seq 2^53-1 was accepted, and the reinstalled machine (whose base is then 2^53-1) was
    refused forever. Now a record may reach at most MAX_SEQ_ADVANCE past the last acknowledged seq."""
    import sqlalchemy as sa
    from provisioning.fleet.store.schema import devices
    (seq,) = seqs(hostile, 1)
    assert send(hostile, [health(seq, time.time() - 5)]).status_code == 200
    with hostile.app.extensions["fleet_engine"].connect() as conn:
        last = conn.execute(sa.select(devices.c.last_seq).where(devices.c.asset_tag == "HOST-001")).scalar_one()
    assert last == seq
    before = stored_rows(hostile)
    for seq in (2**53 - 1, last + MAX_SEQ_ADVANCE + 1):
        assert_refused(send(hostile, [health(seq, time.time() - 5)]), 422, "/records/0/seq:")
    assert stored_rows(hostile) == before
    assert send(hostile, [health(last + MAX_SEQ_ADVANCE, time.time() - 5)]).status_code == 200
    hostile.next_seq = last + MAX_SEQ_ADVANCE + 1
    # A reinstall (the staff's reinstall code for this asset tag: a healthy machine is never taken over
    # with an ordinary code); its base is the last seq, and base + 1 is accepted.
    from provisioning.fleet.enrolment import create_enrolment_code
    code = create_enrolment_code(hostile.app.extensions["fleet_engine"], LUCHON, time.time(), 30, asset_tag="HOST-001")
    answer = hostile.app.test_client().post("/api/v1/enrol", json={
        "protocol": 1, "code": code, "asset_tag": "HOST-001", "commune_insee": LUCHON})
    assert answer.status_code == 201, answer.get_json()
    base = answer.get_json()["seq_base"]
    assert base == last + MAX_SEQ_ADVANCE
    hostile.tokens["HOST-001"] = answer.get_json()["token"]
    assert send(hostile, [health(base + 1, time.time() - 1)]).status_code == 200
    hostile.next_seq = base + 2


# -- Hypothesis: whatever the validator accepts is stored and read back by every page and export -------------

TEXT = st.one_of(st.text(max_size=12), st.text(min_size=195, max_size=205),
                 st.sampled_from(["=1+2", "<script>alert(1)</script>", "’«\u202f»", "\x00", "\ud800", "a\udfff",
                                  "\U0001f600", "\u2028", "\r\n", "é" * 200, ""]))
DAYS = st.one_of(st.dates(dt.date(2020, 1, 1), dt.datetime.now(dt.timezone.utc).date()).map(dt.date.isoformat),
                 st.sampled_from(["2026-09-31", "2024-02-29", "2023-02-29", "2019-12-31", "2020-01-01"]))
KEYS = {"none": st.sampled_from(["", "x"]),
        "bucket": st.sampled_from(["lt5m", "5-15m", "15-30m", "30-60m", "ge60m", "lt6m"]),
        "tile": st.one_of(st.from_regex(r"\A[a-z0-9][a-z0-9-]{0,62}\Z"), st.sampled_from(["ameli", "-x", "A"])),
        "host": st.one_of(st.from_regex(r"\A[a-z0-9_][a-z0-9_.-]{0,80}\Z"), st.sampled_from(["a/b", "h\x00"]))}
COUNTER = st.sampled_from(sorted(USAGE_KEY_KINDS)).flatmap(
    lambda metric: st.tuples(st.just(metric), KEYS[USAGE_KEY_KINDS[metric]],
                             st.one_of(st.integers(0, MAX_USAGE_COUNT), st.sampled_from([-1, MAX_USAGE_COUNT + 1])))
    .map(list))
INVENTORY = st.fixed_dictionaries({}, optional={
    **{name: st.one_of(st.none(), TEXT) for name in ("vendor", "model", "serial", "uuid", "cpu_model", "os", "kernel",
                                                      "kiosk_version")},
    "cpu_count": st.integers(0, 4096), "memory_bytes": st.integers(0, 10**15),
    "disks": st.lists(st.fixed_dictionaries({"name": st.one_of(st.text(max_size=64), TEXT)},
                                            optional={"model": TEXT, "size_bytes": st.integers(0, 10**15),
                                                      "rotational": st.booleans()}), max_size=3),
    "macs": st.lists(st.from_regex(r"\A[0-9a-f]{2}(:[0-9a-f]{2}){5}\Z"), max_size=2)})
HEALTH = st.fixed_dictionaries({}, optional={
    "cpu_percent": st.floats(0, 100), "memory_used_percent": st.floats(0, 100), "disk_used_percent": st.floats(0, 100),
    "temperature_max_c": st.floats(-50, 200), "load1": st.floats(0, 10000), "uptime_s": st.floats(0, 10**9),
    "kiosk_restarts": st.integers(0, 10**6), "battery_plugged": st.booleans(), "disk_free_bytes": st.integers(0, 10**15),
    "boot_time": st.floats(0, 10**10), "last_session_at": st.floats(0, 10**10)})
RECORD = st.one_of(
    st.builds(lambda data: ("inventory", data), INVENTORY),
    st.builds(lambda data: ("health", data), HEALTH),
    st.builds(lambda day, counters: ("usage", {"day": day, "counters": counters}), DAYS, st.lists(COUNTER, max_size=8)))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow, HealthCheck.data_too_large])
@given(drawn=st.lists(RECORD, min_size=1, max_size=4), ages=st.lists(st.floats(0, 86400 * 400), min_size=4, max_size=4))
def test_whatever_the_validator_accepts_every_page_and_export_reads_back(hostile, drawn, ages):
    numbers = seqs(hostile, len(drawn))
    now = time.time()
    records = [{"seq": seq, "at": now - ages[index], "type": kind, "data": data}
               for index, (seq, (kind, data)) in enumerate(zip(numbers, drawn))]
    document = {"protocol": 1, "sent_at": now, "records": records}
    errors = validate_checkin(document, latest=now + 86400)
    response = send(hostile, raw=json.dumps(document).encode())
    if errors:
        assert response.status_code == 422, (errors, response.get_json())
        return
    assert response.status_code == 200, response.get_json()
    years = {int(data["day"][:4]) for kind, data in drawn if kind == "usage"}
    assert every_page_answers(hostile, years=years) > 10
