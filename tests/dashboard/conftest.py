"""Fixtures for the dashboard tests; the helpers they use live in dashboard_helpers.py (a unique module
name, so that test files can import them whatever other test folders are collected in the same run)."""

from dashboard_helpers import fresh, fresh_sqlite, seeded  # noqa: F401 - fixtures, registered by pytest
