"""Applying playbooks/fleet-server.yml in tests: a wheelhouse of the project's `fleet` extra, a
self-signed certificate, an inventory aimed at a chroot, and ansible-playbook's output and recap."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from provisioning.provision.bundle import pack
from provisioning.provision.wheelhouse import build_wheelhouse

REPO = Path(__file__).resolve().parents[2]
PLAYBOOKS = REPO / "playbooks"
SERVER_NAME = "parc.essai.test"
HOST = "parc"


@dataclass
class PlaybookResult:
    returncode: int
    output: str

    def recap(self) -> dict[str, int]:
        line = next(line for line in self.output.splitlines() if line.startswith(HOST) and "ok=" in line)
        return {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", line)}

    def changed_tasks(self) -> list[str]:
        changed, task = [], ""
        for line in self.output.splitlines():
            if line.startswith(("TASK [", "RUNNING HANDLER [")):
                task = line.split("[", 1)[1].rsplit("]", 1)[0]
            elif line.startswith("changed:"):
                changed.append(task)
        return changed


def server_wheelhouse(workspace: Path) -> tuple[str, Path]:
    """The project's wheel and its `fleet` extra's dependencies, packed reproducibly."""
    wheelhouse = build_wheelhouse(REPO, workspace / "wheelhouse", workspace / "wheelhouse.log", extras=("fleet",))
    return wheelhouse.version, pack([wheelhouse.directory], workspace / "wheelhouse.tar", "*.whl")


def self_signed_certificate(directory: Path, name: str = SERVER_NAME) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    certificate, key = directory / "fullchain.pem", directory / "privkey.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name}",
                    "-addext", f"subjectAltName=DNS:{name}", "-keyout", str(key), "-out", str(certificate)],
                   check=True, capture_output=True)
    return certificate, key


def write_inventory(directory: Path, root: Path, variables: dict) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    inventory = {"fleet_servers": {"hosts": {HOST: {
        "ansible_connection": "community.general.chroot", "ansible_host": str(root), "ansible_become": False,
        **variables}}}}
    path = directory / "inventaire.yml"
    path.write_text(yaml.safe_dump(inventory, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def run_playbook(inventory: Path, *extra: str, timeout: int = 900) -> PlaybookResult:
    bin_dir = Path(sys.executable).parent
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
               ANSIBLE_CONFIG=str(PLAYBOOKS / "ansible.cfg"), ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    completed = subprocess.run([str(bin_dir / "ansible-playbook"), "-i", str(inventory), *extra, "fleet-server.yml"],
                               cwd=PLAYBOOKS, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    return PlaybookResult(completed.returncode, completed.stdout + completed.stderr)
