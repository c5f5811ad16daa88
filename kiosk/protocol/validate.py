"""A fast validator for check-in and enrolment bodies, equivalent to the JSON Schema files.

The ingest path runs this on every check-in, so it is plain Python (no jsonschema at run time).
Each error names where it is, as a JSON pointer (``/records/3/data/cpu_percent``), and what is wrong.

Everything it accepts can be stored by both databases and read back by every page: texts hold no NUL and
no surrogate code point (PostgreSQL refuses the first, UTF-8 cannot encode the second) and are bounded;
days are real calendar days; numbers, sequence numbers and usage keys are bounded (see kiosk.protocol).
"""

from __future__ import annotations

import datetime as dt
import re

from kiosk.protocol import (
    MAX_COUNTERS_PER_RECORD, MAX_KEYED_COUNTERS_PER_CHECKIN, MAX_RECORDS_PER_CHECKIN, MAX_USAGE_COUNT,
    OLDEST_TIMESTAMP, PROTOCOL_VERSION, SESSION_LENGTH_BUCKETS, USAGE_KEY_KINDS, USAGE_METRICS,
)

MAX_ERRORS = 20
MAX_SEQ = 2**53 - 1

DAY_PATTERN = re.compile(r"^20[2-9][0-9]-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])\Z")
# What a database cannot store in a text column: NUL (PostgreSQL) and surrogates (no UTF-8 for them).
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
KEY_PATTERNS = {
    "none": re.compile(r"^\Z"),
    "bucket": re.compile(f"^({'|'.join(re.escape(b) for b in SESSION_LENGTH_BUCKETS)})\\Z"),
    "tile": re.compile(r"^[a-z0-9][a-z0-9-]{0,62}\Z"),
    "host": re.compile(r"^[a-z0-9_][a-z0-9_.-]{0,252}\Z"),
}
KEY_RULES = {
    "none": "must be empty for this metric",
    "bucket": "must be a session-length bucket (" + ", ".join(SESSION_LENGTH_BUCKETS) + ")",
    "tile": "must be a tile id (lower-case letters, digits, dashes; at most 63)",
    "host": "must be a bare host name (lower-case, at most 253 characters)",
}
MAC_PATTERN = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}\Z")
CODE_PATTERN = re.compile(r"^[A-Za-z0-9_-]{16,128}\Z")
ASSET_TAG_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,31}\Z")
INSEE_PATTERN = re.compile(r"^([0-9]{5}|2[AB][0-9]{3})\Z")
METRICS = frozenset(USAGE_METRICS)

_NUMBER = (int, float)


def _is_number(value) -> bool:
    return type(value) in _NUMBER


def _is_int(value) -> bool:
    return type(value) is int or (type(value) is float and value.is_integer())


def _shown(value) -> str:
    """A value as an error message may quote it: short, and never the repr of a nested container."""
    if value is None or type(value) in (bool, int, float):
        return repr(value)[:40]
    if type(value) is str:
        return repr(value[:40])
    return f"a {'list' if type(value) is list else 'JSON object' if type(value) is dict else type(value).__name__}"


def _real_day(text: str, latest: float | None) -> str | None:
    """What is wrong with a usage record's day (None: a real day, not after the latest accepted)."""
    if not DAY_PATTERN.match(text):
        return "must be a date YYYY-MM-DD, from 2020 on"
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        return f"{text} is not a day of the calendar"
    # The kiosk counts by its local day: up to 14 h ahead of UTC.
    if latest is not None and day > dt.datetime.fromtimestamp(latest + 14 * 3600, dt.timezone.utc).date():
        return "is too far in the future: the kiosk clock is wrong"
    return None


# field -> (kind, minimum, maximum); kind is "number", "integer", "boolean" or "text"; all nullable.
HEALTH_SPEC = {
    "cpu_percent": ("number", 0, 100),
    "load1": ("number", 0, 10000),
    "memory_used_percent": ("number", 0, 100),
    "memory_available_bytes": ("integer", 0, 10**15),
    "disk_used_percent": ("number", 0, 100),
    "disk_free_bytes": ("integer", 0, 10**15),
    "uptime_s": ("number", 0, 10**9),
    "boot_time": ("number", 0, 10**10),
    "temperature_max_c": ("number", -50, 200),
    "battery_percent": ("number", 0, 100),
    "battery_plugged": ("boolean", None, None),
    "kiosk_restarts": ("integer", 0, 10**6),
    "last_session_at": ("number", 0, 10**10),
}
INVENTORY_SPEC = {
    "vendor": ("text", 0, 200), "model": ("text", 0, 200), "serial": ("text", 0, 200),
    "uuid": ("text", 0, 200), "cpu_model": ("text", 0, 200), "os": ("text", 0, 200),
    "kernel": ("text", 0, 200), "kiosk_version": ("text", 0, 200),
    "cpu_count": ("integer", 0, 4096), "memory_bytes": ("integer", 0, 10**15),
}
DISK_SPEC = {
    "name": ("text", 0, 64), "size_bytes": ("integer", 0, 10**15), "rotational": ("boolean", None, None),
    "model": ("text", 0, 200),
}


class _Errors(list):
    def add(self, path: str, message: str) -> None:
        if len(self) < MAX_ERRORS:
            if len(path) > 120 or UNSTORABLE.search(path):  # a hostile field name: quote it safely
                path = UNSTORABLE.sub("\ufffd", path[:120]) + ("…" if len(path) > 120 else "")
            self.append(f"{path or '/'}: {message}")

    @property
    def full(self) -> bool:
        return len(self) >= MAX_ERRORS


def _check_scalar(errors: _Errors, path: str, value, kind: str, low, high, nullable: bool = True) -> None:
    if value is None:
        if not nullable:
            errors.add(path, "must not be null")
        return
    if kind == "boolean":
        if type(value) is not bool:
            errors.add(path, f"must be true, false or null, not {type(value).__name__}")
        return
    if kind == "text":
        if type(value) is not str:
            errors.add(path, f"must be a string or null, not {type(value).__name__}")
        elif len(value) > high:
            errors.add(path, f"must be at most {high} characters long")
        elif UNSTORABLE.search(value):
            errors.add(path, "must not contain a NUL character or a lone UTF-16 surrogate")
        return
    if kind == "integer" and not (_is_number(value) and _is_int(value)):
        errors.add(path, f"must be an integer or null, not {_shown(value)}")
        return
    if kind == "number" and not _is_number(value):
        errors.add(path, f"must be a number or null, not {_shown(value)}")
        return
    if not (low <= value <= high):
        errors.add(path, f"must be between {low} and {high}")


def _check_object(errors: _Errors, path: str, data, spec: dict) -> None:
    if type(data) is not dict:
        errors.add(path, "must be an object")
        return
    for key, value in data.items():
        rule = spec.get(key)
        if rule is None:
            errors.add(f"{path}/{key}", "unknown field")
        else:
            _check_scalar(errors, f"{path}/{key}", value, *rule)


def _check_usage(errors: _Errors, path: str, data, latest: float | None = None, keyed: set | None = None) -> None:
    """``keyed``: the (metric, key) pairs with a tile or host key seen so far in the check-in."""
    if type(data) is not dict:
        errors.add(path, "must be an object")
        return
    for key in data.keys() - {"day", "counters"}:
        errors.add(f"{path}/{key}", "unknown field")
    day = data.get("day")
    problem = _real_day(day, latest) if type(day) is str else "must be a date YYYY-MM-DD"
    if problem:
        errors.add(f"{path}/day", problem)
    counters = data.get("counters")
    if type(counters) is not list:
        errors.add(f"{path}/counters", "must be a list of [metric, key, count]")
        return
    if len(counters) > MAX_COUNTERS_PER_RECORD:
        errors.add(f"{path}/counters", f"must hold at most {MAX_COUNTERS_PER_RECORD} counters")
        return
    for index, counter in enumerate(counters):
        where = f"{path}/counters/{index}"
        if type(counter) is not list or len(counter) != 3:
            errors.add(where, "must be [metric, key, count]")
            continue
        metric, key, count = counter
        kind = USAGE_KEY_KINDS.get(metric) if type(metric) is str else None
        if kind is None:
            errors.add(f"{where}/0", f"unknown metric {_shown(metric)}")
        elif type(key) is not str or not KEY_PATTERNS[kind].match(key):
            errors.add(f"{where}/1", f"key {KEY_RULES[kind]}")
        else:
            if keyed is not None and kind in ("tile", "host"):
                keyed.add((metric, key))
                if len(keyed) == MAX_KEYED_COUNTERS_PER_CHECKIN + 1:
                    errors.add(f"{where}/1", f"at most {MAX_KEYED_COUNTERS_PER_CHECKIN} different tiles and "
                                             "host names per check-in")
        if not (_is_number(count) and _is_int(count) and 0 <= count <= MAX_USAGE_COUNT):
            errors.add(f"{where}/2", f"count must be an integer between 0 and {MAX_USAGE_COUNT}")


def _check_inventory(errors: _Errors, path: str, data) -> None:
    if type(data) is not dict:
        errors.add(path, "must be an object")
        return
    for key, value in data.items():
        where = f"{path}/{key}"
        if key == "disks":
            if type(value) is not list or len(value) > 64:
                errors.add(where, "must be a list of at most 64 disks")
                continue
            for index, disk in enumerate(value):
                _check_object(errors, f"{where}/{index}", disk, DISK_SPEC)
                if type(disk) is dict and type(disk.get("name")) is not str:
                    errors.add(f"{where}/{index}/name", "required string")
        elif key == "macs":
            if type(value) is not list or len(value) > 64:
                errors.add(where, "must be a list of at most 64 MAC addresses")
                continue
            for index, mac in enumerate(value):
                if type(mac) is not str or not MAC_PATTERN.match(mac):
                    errors.add(f"{where}/{index}", "must be a lower-case MAC address aa:bb:cc:dd:ee:ff")
        elif key in INVENTORY_SPEC:
            _check_scalar(errors, where, value, *INVENTORY_SPEC[key])
        else:
            errors.add(where, "unknown field")


def _check_timestamp(errors: _Errors, path: str, value, latest: float | None) -> None:
    if not _is_number(value):
        errors.add(path, "must be a timestamp (seconds since 1970, UTC)")
    elif value < OLDEST_TIMESTAMP:
        errors.add(path, "is before 2020-01-01: the kiosk clock is wrong")
    elif latest is not None and value > latest:
        errors.add(path, "is too far in the future: the kiosk clock is wrong")


def _check_required(errors: _Errors, path: str, doc: dict, required: tuple, allowed: frozenset) -> None:
    for key in required:
        if key not in doc:
            errors.add(f"{path}/{key}", "required field is missing")
    for key in doc.keys() - allowed:
        errors.add(f"{path}/{key}", "unknown field")


_CHECKIN_KEYS = frozenset({"protocol", "sent_at", "records"})
_RECORD_KEYS = frozenset({"seq", "at", "type", "data"})
_ENROL_KEYS = frozenset({"protocol", "code", "asset_tag", "commune_insee"})
# kind -> check(errors, path, data, latest, keyed)
_DATA_CHECKS = {
    "health": lambda errors, path, data, _latest, _keyed: _check_object(errors, path, data, HEALTH_SPEC),
    "usage": _check_usage,
    "inventory": lambda errors, path, data, _latest, _keyed: _check_inventory(errors, path, data),
}


# The fast path: what kiosks send every few minutes (health samples, a usage record now and then) is
# recognised as valid without building a single error path. It only ever says "surely valid"; anything
# else, or any doubt (an integer written 5.0, an inventory...), goes to the full check below, which alone
# decides what is rejected and says why.
_HEALTH_TYPES = {"number": (int, float), "integer": (int,), "boolean": (bool,)}
_FAST_HEALTH = {name: (_HEALTH_TYPES[kind], False if kind == "boolean" else low, True if kind == "boolean" else high)
                for name, (kind, low, high) in HEALTH_SPEC.items()}


def _surely_valid(doc, latest: float | None) -> bool:
    if type(doc) is not dict or doc.keys() != _CHECKIN_KEYS:
        return False
    protocol, sent_at, records = doc["protocol"], doc["sent_at"], doc["records"]
    if type(protocol) is not int or protocol != PROTOCOL_VERSION:
        return False
    newest = float("inf") if latest is None else latest
    if type(sent_at) not in _NUMBER or not OLDEST_TIMESTAMP <= sent_at <= newest:
        return False
    if type(records) is not list or len(records) > MAX_RECORDS_PER_CHECKIN:
        return False
    seen = set()
    keyed: set = set()
    for record in records:
        if type(record) is not dict or record.keys() != _RECORD_KEYS:
            return False
        seq, at, kind, data = record["seq"], record["at"], record["type"], record["data"]
        if type(seq) is not int or not 1 <= seq <= MAX_SEQ or seq in seen:
            return False
        seen.add(seq)
        if type(at) not in _NUMBER or not OLDEST_TIMESTAMP <= at <= newest:
            return False
        if kind == "health":
            if type(data) is not dict:
                return False
            for key, value in data.items():
                rule = _FAST_HEALTH.get(key)
                if rule is None:
                    return False
                if value is not None and (type(value) not in rule[0] or not rule[1] <= value <= rule[2]):
                    return False
        else:
            check = _DATA_CHECKS.get(kind) if type(kind) is str else None
            if check is None:
                return False
            errors = _Errors()
            check(errors, "", data, latest, keyed)
            if errors:
                return False
    return True


def validate_checkin(doc, latest: float | None = None) -> list[str]:
    """Every problem with a check-in body (empty list: valid). ``latest``: newest timestamp accepted."""
    errors = _Errors()
    if _surely_valid(doc, latest):
        return errors
    if type(doc) is not dict:
        errors.add("", "the body must be a JSON object")
        return errors
    _check_required(errors, "", doc, ("protocol", "sent_at", "records"), _CHECKIN_KEYS)
    if "protocol" in doc and (doc["protocol"] != PROTOCOL_VERSION or type(doc["protocol"]) is bool):
        errors.add("/protocol", f"unsupported protocol version (this server speaks {PROTOCOL_VERSION})")
    if "sent_at" in doc:
        _check_timestamp(errors, "/sent_at", doc["sent_at"], latest)
    records = doc.get("records")
    if "records" in doc and type(records) is not list:
        errors.add("/records", "must be a list")
        return errors
    if records is None:
        return errors
    if len(records) > MAX_RECORDS_PER_CHECKIN:
        errors.add("/records", f"at most {MAX_RECORDS_PER_CHECKIN} records per check-in")
        return errors
    seen = set()
    keyed: set = set()
    for index, record in enumerate(records):
        if errors.full:
            break
        path = f"/records/{index}"
        if type(record) is not dict:
            errors.add(path, "must be an object")
            continue
        _check_required(errors, path, record, ("seq", "at", "type", "data"), _RECORD_KEYS)
        seq = record.get("seq")
        if "seq" in record:
            if not (_is_number(seq) and _is_int(seq) and 1 <= seq <= MAX_SEQ):
                errors.add(f"{path}/seq", "must be a positive integer")
            elif seq in seen:
                errors.add(f"{path}/seq", f"sequence number {int(seq)} appears twice in this check-in")
            else:
                seen.add(seq)
        if "at" in record:
            _check_timestamp(errors, f"{path}/at", record["at"], latest)
        kind = record.get("type")
        check = _DATA_CHECKS.get(kind) if type(kind) is str else None
        if "type" in record and check is None:
            errors.add(f"{path}/type", "must be one of health, usage, inventory")
        elif check is not None and "data" in record:
            check(errors, f"{path}/data", record["data"], latest, keyed)
    return errors


def validate_enrol(doc) -> list[str]:
    """Every problem with an enrolment body (empty list: valid)."""
    errors = _Errors()
    if type(doc) is not dict:
        errors.add("", "the body must be a JSON object")
        return errors
    _check_required(errors, "", doc, ("protocol", "code", "asset_tag", "commune_insee"), _ENROL_KEYS)
    if "protocol" in doc and (doc["protocol"] != PROTOCOL_VERSION or type(doc["protocol"]) is bool):
        errors.add("/protocol", f"unsupported protocol version (this server speaks {PROTOCOL_VERSION})")
    for key, pattern, what in (
        ("code", CODE_PATTERN, "an enrolment code (16 to 128 letters, digits, - or _)"),
        ("asset_tag", ASSET_TAG_PATTERN, "an asset tag such as AB-0042 (capitals, digits, dashes)"),
        ("commune_insee", INSEE_PATTERN, "a commune INSEE code such as 31042 or 2A004"),
    ):
        if key in doc and (type(doc[key]) is not str or not pattern.match(doc[key])):
            errors.add(f"/{key}", f"must be {what}")
    return errors
