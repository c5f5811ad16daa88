"""``fleet bundle-key`` and ``fleet bundle publish`` (real command, SQLite store): the key pair is made once
(never overwritten, private half 0600), a commune's kiosk.yaml is published as its next version, and a
wrong file is refused in French with exit code 2 and nothing published. The API without a key: 503."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import yaml

from provisioning.fleet.cli import main

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def fleet_env(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'fleet.db'}"
    monkeypatch.setenv("FLEET_DATABASE_URL", url)
    assert main(["db", "upgrade"]) == 0
    assert main(["enrolment-code", "31042", "--name", "Bagnères-de-Luchon"]) == 0
    from provisioning.fleet.store.engine import make_engine
    engine = make_engine(url)
    yield engine
    engine.dispose()


def test_the_key_pair_is_made_once_and_the_private_half_is_private(tmp_path, capsys):
    from cryptography.hazmat.primitives.serialization import load_pem_public_key
    key = tmp_path / "bundles.key"
    assert main(["bundle-key", str(key)]) == 0
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    load_pem_public_key((tmp_path / "bundles.key.pub").read_bytes())
    before = key.read_bytes()
    assert main(["bundle-key", str(key)]) == 2
    assert "existe déjà" in capsys.readouterr().err
    assert key.read_bytes() == before


def test_publish_a_communes_kiosk_yaml_then_refuse_a_wrong_one(fleet_env, tmp_path, capsys):
    from provisioning.fleet import management
    assert main(["bundle", "publish", "31042", str(REPO / "config" / "demo" / "kiosk.yaml")]) == 0
    assert "Version 1 publiée" in capsys.readouterr().out
    site = yaml.safe_load((REPO / "config" / "demo" / "kiosk.yaml").read_text(encoding="utf-8"))
    site["idle"] = {"warning_after_s": 5}
    wrong = tmp_path / "kiosk.yaml"
    wrong.write_text(yaml.safe_dump(site, allow_unicode=True), encoding="utf-8")
    assert main(["bundle", "publish", "31042", str(wrong)]) == 2
    assert "idle.warning_after_s : valeur trop petite : 30 au moins" in capsys.readouterr().err
    assert main(["bundle", "publish", "65059", str(REPO / "config" / "demo" / "kiosk.yaml")]) == 2
    assert [item.version for item in management.history(fleet_env, "31042")] == [1]
    with fleet_env.connect() as conn:
        content = management.content_of(conn, "31042", 1)
    assert "catalog" not in content["site"] and content["site"]["help"]["bus_visits"][0]["date"] == "2026-12-03"


def test_without_a_signing_key_the_bundle_endpoint_says_so(fleet_env):
    from provisioning.fleet import create_app
    from provisioning.fleet.enrolment import create_enrolment_code, enrol
    import time
    app = create_app({"database_url": str(fleet_env.url), "testing": True})
    token = enrol(fleet_env, create_enrolment_code(fleet_env, "31042", time.time(), 30), "LUCH-009", "31042",
                  time.time())["token"]
    answer = app.test_client().get("/api/v1/bundle", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 503 and answer.get_json()["ok"] is False
    app.extensions["fleet_engine"].dispose()


def test_the_agent_settings_name_the_bundle_paths_or_leave_bundles_off(tmp_path):
    from kiosk.agent.settings import AgentSettingsError, load_agent_settings
    base = {"fleet_url": "https://parc.example.org", "asset_tag": "LUCH-001", "commune_insee": "31042",
            "enrolment_code_file": "/etc/kiosk/enrolment-code"}
    path = tmp_path / "agent.yaml"
    path.write_text(yaml.safe_dump(base))
    assert load_agent_settings(path).bundle_public_key is None  # no key: the agent pulls no bundles
    path.write_text(yaml.safe_dump({**base, "bundle_public_key": "/etc/kiosk/fleet-bundles.pub",
                                    "bundle_dir": "/var/lib/kiosk/bundles", "config_dir": "/etc/kiosk"}))
    settings = load_agent_settings(path)
    assert settings.bundle_public_key == Path("/etc/kiosk/fleet-bundles.pub")
    path.write_text(yaml.safe_dump({**base, "bundle_public_key": "fleet-bundles.pub"}))
    with pytest.raises(AgentSettingsError) as refused:
        load_agent_settings(path)
    assert "bundle_public_key : il faut un chemin absolu" in str(refused.value.problems[0])


def test_import_the_national_catalog_then_refuse_a_scripted_pictogram(fleet_env, tmp_path, capsys):
    """``fleet catalog import``: the catalog and its pictograms become version 1, and every commune with a
    bundle gets a new version carrying it; a pictogram with a script is refused in French, nothing published."""
    import shutil

    from provisioning.fleet import catalog, management
    assert main(["bundle", "publish", "31042", str(REPO / "config" / "demo" / "kiosk.yaml")]) == 0
    assert main(["catalog", "import", str(REPO / "config" / "services.yaml"), str(REPO / "config" / "pictograms"),
                 str(REPO / "config" / "demo" / "pictograms")]) == 0
    assert "Catalogue national publié : version 1" in capsys.readouterr().out
    with fleet_env.connect() as conn:
        version, content = management.latest(conn, "31042")
    assert version == 2 and content["catalog_version"] == 1
    pictograms = tmp_path / "pictograms"
    shutil.copytree(REPO / "config" / "pictograms", pictograms)
    (pictograms / "sante.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>')
    assert main(["catalog", "import", str(REPO / "config" / "services.yaml"), str(pictograms),
                 str(REPO / "config" / "demo" / "pictograms")]) == 2
    assert "pictogramme sante.svg : pictogramme refusé : attribut « onload » interdit" in capsys.readouterr().err
    assert [item.version for item in catalog.history(fleet_env)] == [1]
