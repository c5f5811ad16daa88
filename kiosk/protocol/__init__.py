"""The check-in protocol between the kiosk agent and the fleet server, defined once and versioned.

The JSON Schema files beside this module (``checkin-v1.schema.json``, ``enrol-v1.schema.json``) are the
normative definition; :mod:`kiosk.protocol.validate` is a fast, dependency-free validator that accepts
exactly what the schemas accept (a Hypothesis test holds it to that). Both sides import from here;
nothing in this package may import Flask, pydantic or SQLAlchemy (the agent must stay light).
"""

from __future__ import annotations

import json
from importlib import resources

PROTOCOL_VERSION = 1
API_PREFIX = "/api/v1"
ENROL_PATH = API_PREFIX + "/enrol"
CHECKIN_PATH = API_PREFIX + "/checkin"

MAX_RECORDS_PER_CHECKIN = 500
MAX_BODY_BYTES = 1024 * 1024            # on the wire (gzip)
MAX_INFLATED_BYTES = 8 * 1024 * 1024    # once decompressed
FUTURE_TOLERANCE_S = 24 * 3600          # a kiosk clock may drift, not by days
OLDEST_TIMESTAMP = 1577836800.0         # 2020-01-01T00:00:00Z: anything older is a broken clock

RECORD_TYPES = ("health", "usage", "inventory")
USAGE_METRICS = (
    "sessions", "session_length", "tile_opened", "navigation_refused", "pages_printed",
    "idle_warning", "idle_reset", "crash_recovered", "kiosk_started",
)
SESSION_LENGTH_BUCKETS = ("lt5m", "5-15m", "15-30m", "30-60m", "ge60m")
# The key each usage metric is counted by: nothing (""), a session-length bucket, a tile id (the
# configuration's identifiers: lower-case letters, digits, dashes, at most 63) or a refused bare host name.
USAGE_KEY_KINDS = {
    "sessions": "none", "session_length": "bucket", "tile_opened": "tile", "navigation_refused": "host",
    "pages_printed": "none", "idle_warning": "none", "idle_reset": "none", "crash_recovered": "none",
    "kiosk_started": "none",
}
# Bounds that keep a check-in, and what it adds to the store, small whoever sends it (issue 15): a day's
# count of one counter, counters per usage record, distinct keyed counters (tiles, hosts) per check-in.
MAX_USAGE_COUNT = 100_000
MAX_COUNTERS_PER_RECORD = 200
MAX_KEYED_COUNTERS_PER_CHECKIN = 200
# A record's sequence number may reach at most this far beyond the device's last acknowledged one:
# a spool never holds that many records, and no one holding a token can use the whole seq space up,
# so that a reinstalled machine always has room to continue (its new base is the last acknowledged seq).
MAX_SEQ_ADVANCE = 2**31

HEALTH_FIELDS = (
    "cpu_percent", "load1", "memory_used_percent", "memory_available_bytes", "disk_used_percent",
    "disk_free_bytes", "uptime_s", "boot_time", "temperature_max_c", "battery_percent",
    "battery_plugged", "kiosk_restarts", "last_session_at",
)


def session_length_bucket(duration_s: float) -> str:
    """The coarse bucket a session length falls in (never the exact length: less identifying)."""
    minutes = duration_s / 60
    if minutes < 5:
        return "lt5m"
    if minutes < 15:
        return "5-15m"
    if minutes < 30:
        return "15-30m"
    if minutes < 60:
        return "30-60m"
    return "ge60m"


def load_schema(name: str) -> dict:
    """One of the JSON Schema files shipped with this package: ``"checkin"`` or ``"enrol"``."""
    text = resources.files(__package__).joinpath(f"{name}-v{PROTOCOL_VERSION}.schema.json").read_text()
    return json.loads(text)
