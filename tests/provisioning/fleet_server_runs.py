"""Applying playbooks/fleet-server.yml in tests: a wheelhouse of the project's `fleet` extra, a
self-signed certificate, an inventory aimed at a chroot, and ansible-playbook's output and recap."""

from __future__ import annotations

import atexit
import functools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from provisioning.provision.bundle import pack
from provisioning.provision.wheelhouse import build_wheelhouse

from nspawn_machine import wait_for

REPO = Path(__file__).resolve().parents[2]
CLIENT = Path(__file__).with_name("fleet_server_client.py")
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


@functools.cache
def server_wheelhouse() -> tuple[str, Path]:
    """The project's wheel and its `fleet` extra's dependencies, packed reproducibly (once per session)."""
    workspace = Path(tempfile.mkdtemp(prefix="fleet-server-wheelhouse-"))
    atexit.register(shutil.rmtree, workspace, True)
    wheelhouse = build_wheelhouse(REPO, workspace / "wheelhouse", workspace / "wheelhouse.log", extras=("fleet",))
    return wheelhouse.version, pack([wheelhouse.directory], workspace / "wheelhouse.tar", "*.whl")


def self_signed_certificate(directory: Path, name: str = SERVER_NAME) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    certificate, key = directory / "fullchain.pem", directory / "privkey.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name}",
                    "-addext", f"subjectAltName=DNS:{name}", "-keyout", str(key), "-out", str(certificate)],
                   check=True, capture_output=True)
    return certificate, key


def chroot_connection(root: Path) -> dict:
    """A root filesystem being prepared."""
    return {"ansible_connection": "community.general.chroot", "ansible_host": str(root), "ansible_become": False}


def booted_connection(leader: int) -> dict:
    """A booted container, entered through its namespaces: the playbook runs live, as over SSH (as
    root already; `become` stays the playbook's, so that tasks may become the postgres user)."""
    return {"ansible_connection": "community.docker.nsenter", "ansible_nsenter_pid": leader}


def write_inventory(directory: Path, connection: dict, variables: dict) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    inventory = {"fleet_servers": {"hosts": {HOST: {**connection, **variables}}}}
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


def client(machine, certificate: Path, *args: str, timeout: float = 120) -> dict:
    """fleet_server_client.py run in the booted container's network namespace (its loopback only)."""
    result = subprocess.run(["nsenter", "--target", str(machine.leader), "--net", "--", sys.executable, str(CLIENT),
                             str(certificate), SERVER_NAME, *args],
                            capture_output=True, text=True, timeout=timeout, check=False)
    assert result.returncode == 0, f"client {args[0]} failed: {result.stderr[-3000:]}"
    return json.loads(result.stdout.strip().splitlines()[-1])


def answer_or_none(machine, certificate: Path, *args: str):
    try:
        answer = client(machine, certificate, *args, timeout=30)
    except AssertionError:
        return None
    return answer if answer["status"] == 200 else None




def wait_for_the_api(machine, certificate: Path, timeout_s: float = 90) -> None:
    wait_for(lambda: answer_or_none(machine, certificate, "get", "/api/v1/ping"), timeout_s, "the API through nginx",
             lambda: machine.run("journalctl", "--no-pager", "-n", "60", "-u", "fleet-server.service", "-u", "nginx.service",
                                 check=False).stdout)


def enrol(machine, certificate: Path, asset_tag: str) -> str:
    """A code made with `sudo fleet enrolment-code` on the server, used by a kiosk through nginx."""
    code = machine.run("/usr/local/sbin/fleet", "enrolment-code", "65059", "--name", "Bagnères-de-Luchon").stdout.strip()
    answer = client(machine, certificate, "enrol", code, asset_tag, "65059")
    assert answer["status"] == 201, answer
    return json.loads(answer["body"])["token"]


def server_variables(workspace: Path, **overrides) -> tuple[dict, Path]:
    """The inventory's variables for a test server (a fresh wheelhouse, a self-signed certificate, the
    vault's secrets made here), and the certificate the clients trust."""
    import secrets

    version, archive = server_wheelhouse()
    certificate, key = self_signed_certificate(workspace / "tls")
    variables = {
        "fleet_server__version": version, "fleet_server__wheelhouse_archive": str(archive),
        "fleet_server__server_name": SERVER_NAME,
        "fleet_server__tls_certificate_src": str(certificate), "fleet_server__tls_certificate_key_src": str(key),
        # What the inventory's vault holds in production.
        "fleet_server__secret_key": secrets.token_urlsafe(48),
        **overrides,
    }
    return variables, certificate


def apply_twice(inventory: Path) -> tuple[PlaybookResult, PlaybookResult]:
    """The playbook applied, then again (which must change nothing) when the first run succeeded."""
    first = run_playbook(inventory)
    return first, (run_playbook(inventory) if first.returncode == 0 else first)


def server_base(release: str) -> Path:
    """The cached root filesystem with the server's Debian packages of ``release``, built if missing."""
    import debian_rootfs

    started = time.monotonic()
    base = debian_rootfs.server_rootfs(release)
    print(f"\n{release}: server root filesystem {base} ready in {time.monotonic() - started:.0f} s")
    return base
