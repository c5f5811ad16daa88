"""Prepare a local fleet server for the demo (``./dev demo``): the store migrated, the demo commune known
with its town-hall point, a one-time enrolment code for the demo kiosk's agent, and a fresh ``demo``
admin password (never a fixed one). Used by scripts/demo.py; ``fleet demo-login`` does the last step."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from kiosk.config import load_config
from provisioning.fleet.accounts.store import demo_login
from provisioning.fleet.store.engine import make_engine, write_transaction
from provisioning.fleet.enrolment import create_enrolment_code
from provisioning.fleet.store.migrate import upgrade
from provisioning.fleet.store.readmodel import save_place

DEMO_SIRET = "21310042500012"  # a well-formed placeholder for the demo town hall
# The demo commune's expected check-in interval AND the interval the demo server asks the kiosk for: the
# same number, or the single demo kiosk reads « En retard » minutes after start.
DEMO_CHECKIN_INTERVAL_S = 60


def demo_server_environment() -> dict[str, str]:
    """The fleet server's settings for the demo that must agree with the demo commune's profile."""
    return {"FLEET_CHECKIN_INTERVAL_S": str(DEMO_CHECKIN_INTERVAL_S)}


@dataclass(frozen=True)
class DemoFleet:
    enrolment_code: str
    commune_insee: str
    username: str
    password: str


def prepare_demo_fleet(database_url: str, config_directory: Path,
                       expected_interval_s: int = DEMO_CHECKIN_INTERVAL_S) -> DemoFleet:
    upgrade(database_url)
    config = load_config(config_directory)
    engine = make_engine(database_url)
    try:
        commune = config.commune
        code = create_enrolment_code(engine, commune.insee, time.time(), 1, name=commune.name,
                                     expected_interval_s=expected_interval_s)
        save_place(engine, commune.insee, {"postal_code": commune.postal_code, "address": commune.address,
                                           "siret": DEMO_SIRET, "opening_hours": config.opening_hours.osm() or None})
        with write_transaction(engine) as conn:
            username, password = demo_login(conn)
    finally:
        engine.dispose()
    return DemoFleet(enrolment_code=code, commune_insee=commune.insee, username=username, password=password)
