"""The playbooks (site.yml for kiosks, fleet-server.yml) pass ansible-lint (offline) and Ansible's syntax check; every role variable is
prefixed with its role, defaulted, and documented in the role's README."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
PLAYBOOKS = REPO / "playbooks"
ROLES = sorted(path.name for path in (PLAYBOOKS / "roles").iterdir() if path.is_dir())
BIN = Path(sys.executable).parent


def _env() -> dict:
    return dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", ANSIBLE_NOCOLOR="1", NO_COLOR="1")


def test_ansible_lint_offline_reports_nothing():
    result = subprocess.run([str(BIN / "ansible-lint"), "--offline", "--nocolor", "site.yml", "fleet-server.yml", "roles"],
                            cwd=PLAYBOOKS, capture_output=True, text=True, env=_env(), timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 failure(s), 0 warning(s)" in result.stdout + result.stderr


@pytest.mark.parametrize("playbook", ["site.yml", "fleet-server.yml"])
def test_playbook_passes_the_syntax_check(playbook):
    result = subprocess.run([str(BIN / "ansible-playbook"), "--syntax-check", "-i", "localhost,", playbook],
                            cwd=PLAYBOOKS, capture_output=True, text=True, env=_env(), timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_playbooks_apply_every_role():
    kiosk = [entry["role"] for entry in yaml.safe_load((PLAYBOOKS / "site.yml").read_text(encoding="utf-8"))[0]["roles"]]
    server = [entry["role"] for entry in
              yaml.safe_load((PLAYBOOKS / "fleet-server.yml").read_text(encoding="utf-8"))[0]["roles"]]
    assert sorted(kiosk) == sorted(["agent", "base", "enrolment", "firewall", "kiosk", "lockdown", "printing", "ssh"])
    assert server == ["fleet_server"]
    assert sorted(kiosk + server) == ROLES


@pytest.mark.parametrize("role", ROLES)
def test_role_variables_are_prefixed_defaulted_and_documented(role):
    defaults = yaml.safe_load((PLAYBOOKS / "roles" / role / "defaults" / "main.yml").read_text(encoding="utf-8"))
    readme = (PLAYBOOKS / "roles" / role / "README.md").read_text(encoding="utf-8")
    assert "## Role Variables" in readme
    documented = readme.split("## Role Variables", 1)[1]
    for name in defaults:
        assert name.startswith(f"{role}__"), f"{name} is not prefixed with {role}__"
        assert f"`{name}`" in documented, f"{name} is not documented in roles/{role}/README.md"


@pytest.mark.parametrize("role", ROLES)
def test_templates_start_with_the_managed_marker(role):
    templates = list((PLAYBOOKS / "roles" / role / "templates").rglob("*.j2"))
    for template in templates:
        lines = template.read_text(encoding="utf-8").splitlines()
        head = lines[1] if lines[0].startswith("#!") else lines[0]
        assert head.startswith("{{ ansible_managed"), f"{template} does not start with ansible_managed"


def test_role_variables_used_in_tasks_come_from_their_own_role():
    """A role reads only its own variables (and Ansible's): no hidden coupling between roles."""
    for role in ROLES:
        for path in (PLAYBOOKS / "roles" / role).rglob("*"):
            if path.suffix not in (".yml", ".j2") or path.parent.name == "meta":
                continue
            text = path.read_text(encoding="utf-8")
            for other in ROLES:
                if other != role:
                    assert f"{other}__" not in text.replace(f"{role}__", ""), f"{path} uses {other}'s variables"
