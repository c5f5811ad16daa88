"""The check-in protocol is defined once: the fast validator accepts exactly what the JSON Schema files
accept (Hypothesis), the OpenAPI file describes the API that exists, and every setting is documented."""

from __future__ import annotations

import re
from pathlib import Path

import jsonschema
import yaml
from hypothesis import given, settings, strategies as st

from kiosk.protocol import HEALTH_FIELDS, USAGE_METRICS, load_schema
from kiosk.protocol.validate import validate_checkin, validate_enrol

REPO = Path(__file__).resolve().parents[2]
# "format": "date" is an assertion here (a usage day must be a real day): the format checker is on.
CHECKIN = jsonschema.Draft202012Validator(load_schema("checkin"),
                                          format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
ENROL = jsonschema.Draft202012Validator(load_schema("enrol"))

# Values of every JSON kind, biased toward the edges of the schema's ranges.
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-10, 10**16), st.floats(-1e11, 1e11, allow_nan=False),
    st.sampled_from([0, 1, 100, 100.5, -0.5, 1577836799, 1577836800, 1.0, 2**53]),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"), max_size=8),
    st.sampled_from(["", "impots", "www.impots.gouv.fr", "a/b?c", "2026-02-30", "2026-13-01", "aa:bb:cc:dd:ee:ff"]),
    st.sampled_from(["nul\x00byte", "\ud800", "lone \udfff low", "\ud83d\ude00", "é" * 200, "x" * 201]),
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.sampled_from(["name", "size_bytes", "x"]), inner, max_size=2), max_leaves=6)

health = st.dictionaries(st.sampled_from(list(HEALTH_FIELDS) + ["url"]), scalars, max_size=5)
counter = st.one_of(st.tuples(st.sampled_from(list(USAGE_METRICS) + ["typed"]),
                              st.sampled_from(["", "impots", "www.caf.fr", "Bad Key", "a/b", "lt5m", "-x",
                                               "a" * 64, "a" * 63, "_host"]),
                              st.one_of(st.integers(-2, 10**5 + 1), st.sampled_from([1.0, 1.5, True, 10**9]))).map(list),
                    values)
usage = st.fixed_dictionaries({"day": st.sampled_from(["2026-03-14", "2026-3-14", "1999-01-01", 20260314,
                                                       "2026-09-31", "2026-02-29", "2028-02-29", "2026-06-31"]),
                               "counters": st.lists(counter, max_size=3)},
                              optional={"extra": scalars})
inventory = st.dictionaries(
    st.sampled_from(["vendor", "serial", "cpu_count", "memory_bytes", "disks", "macs", "os", "colour"]),
    st.one_of(scalars, st.lists(st.sampled_from(["aa:bb:cc:dd:ee:ff", "AA:BB:CC:DD:EE:FF", "x"]), max_size=2),
              st.lists(st.fixed_dictionaries({"name": st.sampled_from(["sda", 3])},
                                             optional={"rotational": scalars, "size_bytes": scalars}), max_size=2)),
    max_size=4)


@st.composite
def records(draw, seq):
    kind = draw(st.sampled_from(["health", "usage", "inventory", "other"]))
    data = draw({"health": health, "usage": usage, "inventory": inventory, "other": values}[kind])
    record = {"seq": seq, "at": draw(st.one_of(st.just(1764000000.0), scalars)), "type": kind, "data": data}
    if draw(st.booleans()):
        record.pop(draw(st.sampled_from(["seq", "at", "type", "data"])))
    if draw(st.integers(0, 9)) == 0:
        record["url"] = "https://example.org/private?q=1"
    return record


@st.composite
def checkins(draw):
    count = draw(st.integers(0, 4))
    doc = {"protocol": draw(st.sampled_from([1, 1, 1, 2, "1", True])),
           "sent_at": draw(st.one_of(st.just(1764000000.0), scalars)),
           "records": [draw(records(seq)) for seq in range(1, count + 1)]}   # distinct seqs: a rule of ours
    if draw(st.integers(0, 5)) == 0:
        doc.pop(draw(st.sampled_from(list(doc))))
    return doc


@settings(max_examples=600, deadline=None)
@given(doc=checkins())
def test_fast_validator_agrees_with_the_checkin_schema(doc):
    assert (validate_checkin(doc) == []) == CHECKIN.is_valid(doc), (validate_checkin(doc), doc)


@settings(max_examples=300, deadline=None)
@given(doc=st.fixed_dictionaries(
    {}, optional={"protocol": st.sampled_from([1, 2, True]),
                  "code": st.sampled_from(["A" * 43, "short", "x" * 129, "ab cd" * 5, 7]),
                  "asset_tag": st.sampled_from(["AB-0042", "ab-0042", "A", "AB_1", None]),
                  "commune_insee": st.sampled_from(["31042", "2A004", "2C004", "3104", 31042]),
                  "serial": scalars}))
def test_fast_validator_agrees_with_the_enrol_schema(doc):
    assert (validate_enrol(doc) == []) == ENROL.is_valid(doc), (validate_enrol(doc), doc)


def test_schemas_are_valid_json_schema():
    for name in ("checkin", "enrol"):
        jsonschema.Draft202012Validator.check_schema(load_schema(name))


def test_errors_point_at_the_field():
    errors = validate_checkin({"protocol": 1, "sent_at": 1764000000.0, "records": [
        {"seq": 1, "at": 1764000000.0, "type": "health", "data": {"cpu_percent": 150}}]})
    assert errors == ["/records/0/data/cpu_percent: must be between 0 and 100"]


def test_openapi_describes_the_api_that_exists():
    spec = yaml.safe_load((REPO / "docs" / "api" / "openapi.yaml").read_text())
    assert spec["openapi"].startswith("3.")
    assert {"/api/v1/enrol", "/api/v1/checkin", "/api/v1/ping"} <= set(spec["paths"])
    from provisioning.fleet import create_app
    app = create_app({"database_url": "sqlite://", "testing": True})
    routes = {rule.rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/")}
    assert {"/api/v1/enrol", "/api/v1/checkin", "/api/v1/ping"} <= routes
    error = spec["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"ok", "error", "errors", "status"}


def test_every_setting_is_documented():
    from provisioning.fleet.settings import Settings
    doc = (REPO / "docs" / "telemetry.md").read_text()
    for name, help_text in Settings.help_texts().items():
        assert help_text
        assert re.search(rf"`FLEET_{name.upper()}`", doc), f"FLEET_{name.upper()} is not documented"
    for key in ("fleet_url", "asset_tag", "commune_insee", "enrolment_code_file", "state_dir", "events_dir",
                "ca_file", "interval_s", "spool_quota_mb"):
        assert f"`{key}`" in doc, f"agent setting {key} is not documented"
