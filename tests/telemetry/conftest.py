"""Fixtures for the telemetry tests (defined in telemetry_helpers.py, a module name no other folder uses)."""

from telemetry_helpers import db_url, engine, fleet_server  # noqa: F401 (fixtures)
