"""The agent's settings as the enrolment role writes them turn software updates on with the fleet's key,
and leave them off without it (the template rendered with Jinja, the file read by the agent's own loader)."""

from __future__ import annotations

import json
from pathlib import Path

import jinja2
import pytest

from kiosk.agent.settings import AgentSettingsError, load_agent_settings

TEMPLATE = Path(__file__).resolve().parents[2] / "playbooks/roles/enrolment/templates/etc/kiosk/agent.yaml.j2"


def render(tmp_path, key_file: str) -> Path:
    environment = jinja2.Environment(trim_blocks=True)  # Ansible's template module trims blocks too
    environment.filters.update(to_json=json.dumps, comment=lambda text: "# " + text)
    text = environment.from_string(TEMPLATE.read_text(encoding="utf-8")).render(
        ansible_managed="Ansible managed", enrolment__settings_file="/etc/kiosk/agent.yaml",
        enrolment__fleet_url="https://parc.example.org", enrolment__asset_tag="LUCH-001",
        enrolment__commune_insee="31042", enrolment__code_file="/etc/kiosk/enrolment-code",
        enrolment__state_dir="/var/lib/kiosk-agent", enrolment__events_dir="/var/lib/kiosk/events",
        enrolment__bundle_public_key_file=key_file, enrolment__bundle_dir="/var/lib/kiosk/bundles",
        enrolment__config_dir="/etc/kiosk", enrolment__releases_dir="/opt/kiosk/releases",
        enrolment__release_switch_dir="/var/lib/kiosk/release")
    path = tmp_path / "agent.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_enrolment_template_turns_updates_on_with_the_fleet_key(tmp_path):
    on = load_agent_settings(render(tmp_path, "/etc/kiosk/fleet-bundles.pub"))
    assert on.releases_dir == Path("/opt/kiosk/releases") and on.release_switch_dir == Path("/var/lib/kiosk/release")
    off = load_agent_settings(render(tmp_path, ""))
    assert off.releases_dir is None and off.bundle_public_key is None


def test_a_relative_releases_dir_is_refused_by_name(tmp_path):
    path = render(tmp_path, "/etc/kiosk/fleet-bundles.pub")
    path.write_text(path.read_text().replace('"/opt/kiosk/releases"', '"opt/releases"'), encoding="utf-8")
    with pytest.raises(AgentSettingsError) as refused:
        load_agent_settings(path)
    assert any(problem.field == "releases_dir" for problem in refused.value.problems)
