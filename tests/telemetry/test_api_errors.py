"""Bad input of every kind gets a clear 4xx in the one error shape, nothing is stored, and the server
(a real gunicorn over loopback) keeps serving. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import gzip
import itertools
import json
import os
import time
from contextlib import ExitStack

import pytest

from telemetry_helpers import (
    INSEE, FleetServer, checkin, checkin_body, enrol, health_record, new_code, post, postgres_schema, stored_counts,
)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def live(request, tmp_path_factory):
    """One server per database for the whole table: its URL, an engine, a valid and a revoked token."""
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('bad') / 'fleet.db'}"
        else:
            url = stack.enter_context(postgres_schema())
        yield from _serve(url)


def _serve(url):
    from provisioning.fleet.store.engine import make_engine
    from provisioning.fleet.enrolment import revoke_tokens
    from provisioning.fleet.store.migrate import upgrade

    upgrade(url)
    engine = make_engine(url)
    server = FleetServer(url).start()
    status, answer = enrol(server.url, new_code(engine), "AB-9001")
    assert status == 201
    status, revoked = enrol(server.url, new_code(engine), "AB-9002")
    assert status == 201
    revoke_tokens(engine, "AB-9002", time.time())
    yield {"url": server.url, "engine": engine, "token": answer["token"], "revoked": revoked["token"]}
    server.stop()
    engine.dispose()


def _json(doc) -> bytes:
    return json.dumps(doc).encode()


def _gz(doc) -> bytes:
    return gzip.compress(_json(doc))


NOW = time.time()
SEQS = itertools.count(2)
GOOD_RECORD = health_record(1, NOW)
GOOD = {"protocol": 1, "sent_at": NOW, "records": [GOOD_RECORD]}
JSON_GZ = {"Content-Type": "application/json", "Content-Encoding": "gzip"}

# (case id, body, headers without Authorization, which token: "good"/"revoked"/None/"wrong"/"malformed",
#  expected status, a word the error must contain)
BAD_CHECKINS = [
    ("malformed-json", gzip.compress(b'{"protocol": 1, "records": [}'), JSON_GZ, "good", 400, "JSON"),
    ("not-an-object", _gz([1, 2, 3]), JSON_GZ, "good", 422, "object"),
    ("nan", gzip.compress(b'{"protocol":1,"sent_at":NaN,"records":[]}'), JSON_GZ, "good", 400, "JSON"),
    ("wrong-type-seq", _gz({**GOOD, "records": [{**GOOD_RECORD, "seq": "1"}]}), JSON_GZ, "good", 422, "invalid"),
    ("wrong-type-cpu", _gz({**GOOD, "records": [{**GOOD_RECORD, "data": {"cpu_percent": "high"}}]}),
     JSON_GZ, "good", 422, "invalid"),
    ("bool-as-number", _gz({**GOOD, "records": [{**GOOD_RECORD, "data": {"cpu_percent": True}}]}),
     JSON_GZ, "good", 422, "invalid"),
    ("unknown-top-field", _gz({**GOOD, "extra": 1}), JSON_GZ, "good", 422, "invalid"),
    ("unknown-record-field", _gz({**GOOD, "records": [{**GOOD_RECORD, "url": "https://x/y?z"}]}),
     JSON_GZ, "good", 422, "invalid"),
    ("unknown-health-field", _gz({**GOOD, "records": [{**GOOD_RECORD, "data": {"typed_text": "x"}}]}),
     JSON_GZ, "good", 422, "invalid"),
    ("unknown-metric", _gz({**GOOD, "records": [{"seq": 2, "at": NOW, "type": "usage",
                                                   "data": {"day": "2026-01-01", "counters": [["url", "", 1]]}}]}),
     JSON_GZ, "good", 422, "invalid"),
    ("url-as-key", _gz({**GOOD, "records": [{"seq": 2, "at": NOW, "type": "usage", "data": {
        "day": "2026-01-01", "counters": [["navigation_refused", "evil.example/path?q=secret", 1]]}}]}),
     JSON_GZ, "good", 422, "invalid"),
    ("wrong-protocol", _gz({**GOOD, "protocol": 2}), JSON_GZ, "good", 422, "invalid"),
    ("far-future", _gz({**GOOD, "records": [health_record(1, NOW + 7 * 86400)]}), JSON_GZ, "good", 422, "invalid"),
    ("before-2020", _gz({**GOOD, "records": [health_record(1, 1000.0)]}), JSON_GZ, "good", 422, "invalid"),
    ("duplicate-seq", _gz({**GOOD, "records": [GOOD_RECORD, GOOD_RECORD]}), JSON_GZ, "good", 422, "invalid"),
    ("too-many-records", _gz({**GOOD, "records": [health_record(i, NOW) for i in range(1, 502)]}),
     JSON_GZ, "good", 422, "invalid"),
    ("over-size-body", os.urandom(1024 * 1024 + 10), JSON_GZ, "good", 413, "larger"),
    ("gzip-bomb", gzip.compress(b" " * (9 * 1024 * 1024)), JSON_GZ, "good", 413, "larger"),
    ("broken-gzip", b"\x1f\x8b\x08\x00garbage-garbage", JSON_GZ, "good", 400, "gzip"),
    ("truncated-gzip", _gz(GOOD)[:-12], JSON_GZ, "good", 400, "gzip"),
    ("plain-text", b"hello", {"Content-Type": "text/plain"}, "good", 415, "JSON"),
    ("missing-token", _gz(GOOD), JSON_GZ, None, 401, "token"),
    ("wrong-token", _gz(GOOD), JSON_GZ, "wrong", 401, "token"),
    ("malformed-authorization", _gz(GOOD), JSON_GZ, "malformed", 401, "Authorization"),
    ("revoked-token", _gz(GOOD), JSON_GZ, "revoked", 401, "revoked"),
]


def _assert_error_shape(status: int, body: dict, expected_status: int) -> None:
    assert status == expected_status, body
    assert set(body) == {"ok", "error", "errors", "status"}, body
    assert body["ok"] is False and body["status"] == status
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["errors"], list) and all(isinstance(item, str) for item in body["errors"])


@pytest.mark.parametrize("case, body, headers, token, expected, word", BAD_CHECKINS,
                         ids=[case[0] for case in BAD_CHECKINS])
def test_bad_checkin_is_refused_clearly_and_nothing_is_stored(live, case, body, headers, token, expected, word):
    before = stored_counts(live["engine"])
    headers = dict(headers)
    if token is not None:
        headers["Authorization"] = {"good": f"Bearer {live['token']}", "revoked": f"Bearer {live['revoked']}",
                                    "wrong": "Bearer " + "x" * 43, "malformed": "Basic dXNlcjpwYXNz"}[token]
    status, answer = post(live["url"], "/api/v1/checkin", body, headers)
    _assert_error_shape(status, answer, expected)
    assert word.lower() in (answer["error"] + " ".join(answer["errors"])).lower()
    if expected == 422:
        assert answer["errors"] and all(error.startswith("/") for error in answer["errors"]), answer
    assert stored_counts(live["engine"]) == before
    # ... and the server keeps serving a good check-in.
    seq = next(SEQS)  # increasing, close together: a seq may not leap 2^31 past the last one
    status, answer = checkin(live["url"], live["token"], [health_record(seq)])
    assert status == 200 and answer["acked"] == [seq]


BAD_ENROLMENTS = [
    ("wrong-code", {"code": "A" * 43}, 403, "code"),
    ("bad-asset-tag", {"asset_tag": "ab 42; drop table"}, 422, "asset"),
    ("bad-insee", {"commune_insee": "7500"}, 422, "INSEE"),
    ("other-commune", {"commune_insee": "31042"}, 403, "commune"),
    ("unknown-field", {"serial": "To be filled by O.E.M."}, 422, "unknown"),
]


@pytest.mark.parametrize("case, changes, expected, word", BAD_ENROLMENTS, ids=[case[0] for case in BAD_ENROLMENTS])
def test_bad_enrolment_is_refused_and_the_code_stays_usable(live, case, changes, expected, word):
    code = new_code(live["engine"])
    doc = {"protocol": 1, "code": code, "asset_tag": "AB-7777", "commune_insee": INSEE, **changes}
    status, answer = post(live["url"], "/api/v1/enrol", json.dumps(doc).encode(), {"Content-Type": "application/json"})
    _assert_error_shape(status, answer, expected)
    assert word.lower() in (answer["error"] + " ".join(answer["errors"])).lower()
    status, answer = enrol(live["url"], code, f"AB-{case.upper()[:20]}")
    assert status == 201, answer
    status, again = enrol(live["url"], code, "AB-7778")
    _assert_error_shape(status, again, 403)


def test_every_api_error_has_the_one_shape(live):
    """Framework errors too: unknown route, wrong method."""
    import http.client
    from urllib.parse import urlsplit
    parts = urlsplit(live["url"])
    for method, path, expected in (("GET", "/api/v1/nowhere", 404), ("GET", "/api/v1/checkin", 405),
                                   ("DELETE", "/api/v1/enrol", 405)):
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        connection.request(method, path)
        response = connection.getresponse()
        _assert_error_shape(response.status, json.loads(response.read()), expected)
        connection.close()
