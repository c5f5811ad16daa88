"""Fixtures for the central-management tests (defined in management_helpers.py, a module name no other
folder uses)."""

from management_helpers import managed_fleet  # noqa: F401 (fixture)
