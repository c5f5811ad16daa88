"""The kiosk's telemetry agent (``kiosk agent``): collects health, inventory and anonymous usage,
keeps them in a power-loss-safe spool, and uploads them to the fleet server when the network allows.

Kept light on purpose (no Flask, pydantic or SQLAlchemy): it runs all day on a 2 GB machine.
"""
