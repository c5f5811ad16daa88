"""Fixtures for the kiosk software update tests (defined in release_helpers.py, a module name no other
folder uses)."""

from release_helpers import release_fleet, release_fleet_sqlite  # noqa: F401 (fixtures)
