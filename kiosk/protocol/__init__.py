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
