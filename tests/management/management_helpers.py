"""A managed fleet for the central-management tests (and bench/management.py, which imports the
helpers that are not fixtures): the real fleet app (app factory) on a migrated store
(SQLite and PostgreSQL, tests/postgres_schemas.migrated_store) served over loopback, the fleet's signing
key made by the real ``fleet bundle-key`` code, the demo commune's kiosk.yaml published as its first
bundle, and a real kiosk agent enrolled through the API with the installed configuration it would have
(config/demo's kiosk.yaml, the national catalog and every pictogram)."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from postgres_schemas import migrated_store

from tests.dashboard.dashboard_helpers import csrf_token

REPO = Path(__file__).resolve().parents[2]
LUCHON = "31042"
ASSET_TAG = "LUCH-001"


@dataclass
class ManagedFleet:
    app: object
    engine: object
    url: str
    key_path: Path
    config_dir: Path
    bundle_dir: Path
    agent: object

    def checkin(self) -> bool:
        """One real check-in of the agent (a fresh health sample so there is something to send)."""
        self.agent.record()
        return self.agent.upload()

    def staff(self, role: str = "staff"):
        """A test client logged in through the real login form with ``role``'s account."""
        if role not in self.passwords:  # made on first use: hashing a password costs a good part of a second
            from provisioning.fleet.accounts import store as accounts
            self.passwords[role] = f"motdepasse-{role}-assez-long-42"
            with self.engine.begin() as conn:
                accounts.create_user(conn, role, self.passwords[role], role, LUCHON if role == "commune" else None)
        client = self.app.test_client()
        page = client.get("/connexion").get_data(as_text=True)
        answer = client.post("/connexion", data={"csrf_token": csrf_token(page), "username": role,
                                                 "password": self.passwords[role]})
        assert answer.status_code == 302, answer.get_data(as_text=True)[:300]
        return client


def installed_config(directory: Path) -> Path:
    """/etc/kiosk as the playbooks install it: kiosk.yaml (catalog: services.yaml), the catalog, pictograms."""
    (directory / "pictograms").mkdir(parents=True)
    for source in (REPO / "config" / "pictograms", REPO / "config" / "demo" / "pictograms"):
        for picture in source.glob("*.svg"):
            shutil.copy(picture, directory / "pictograms" / picture.name)
    shutil.copy(REPO / "config" / "services.yaml", directory / "services.yaml")
    site = yaml.safe_load((REPO / "config" / "demo" / "kiosk.yaml").read_text(encoding="utf-8"))
    site["catalog"] = "services.yaml"
    (directory / "kiosk.yaml").write_text(yaml.safe_dump(site, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return directory


def catalog_files() -> tuple[dict, dict[str, str]]:
    """The national catalog as ``fleet catalog import`` reads it: services.yaml and every pictogram
    (the national ones and the demo town hall's own)."""
    from provisioning.fleet import catalog
    return catalog.read_files(REPO / "config" / "services.yaml",
                              [REPO / "config" / "pictograms", REPO / "config" / "demo" / "pictograms"])


def demo_site() -> dict:
    """What staff publish for the demo commune: its kiosk.yaml without catalog and fleet, as JSON."""
    site = yaml.safe_load((REPO / "config" / "demo" / "kiosk.yaml").read_text(encoding="utf-8"))
    site.pop("catalog", None)
    site.pop("fleet", None)
    for visit in site["help"]["bus_visits"]:
        visit["date"] = visit["date"].isoformat()
    return site


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def managed_fleet(request, tmp_path, serve_wsgi):
    from kiosk.agent.runner import Agent
    from kiosk.agent.settings import AgentSettings
    from provisioning.fleet import create_app, management
    from provisioning.fleet.bundle_signing import make_key_pair
    from provisioning.fleet.enrolment import create_enrolment_code

    key_path = tmp_path / "fleet-bundles.key"
    public_key = make_key_pair(key_path)
    with migrated_store(request.param, tmp_path, "mgmt") as engine:
        url = engine.url.render_as_string(hide_password=False)
        app = create_app({"database_url": url, "testing": True, "secret_key": "test-" + "k" * 40,
                          "bundle_signing_key": str(key_path)})
        base = serve_wsgi(app).rstrip("/")
        code = create_enrolment_code(engine, LUCHON, time.time(), 30, name="Bagnères-de-Luchon")
        (tmp_path / "code").write_text(code)
        management.publish_site(engine, LUCHON, demo_site(), "cli:test", time.time())
        config_dir = installed_config(tmp_path / "etc-kiosk")
        settings = AgentSettings(fleet_url=base, asset_tag=ASSET_TAG, commune_insee=LUCHON,
                                 enrolment_code_file=tmp_path / "code", state_dir=tmp_path / "agent-state",
                                 events_dir=tmp_path / "events", bundle_public_key=public_key,
                                 bundle_dir=tmp_path / "bundles", config_dir=config_dir)
        agent = Agent(settings)
        fleet = ManagedFleet(app=app, engine=engine, url=base, key_path=key_path, config_dir=config_dir,
                             bundle_dir=tmp_path / "bundles", agent=agent)
        fleet.passwords = {}
        try:
            yield fleet
        finally:
            agent.close()
            serve_wsgi.stop_all()
            app.extensions["fleet_engine"].dispose()
