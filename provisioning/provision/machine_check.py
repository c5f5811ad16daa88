"""``provision check``: gather a machine's facts over SSH and grade it against the minimum."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

import ansible_runner

from provisioning.provision.runner import use_ansible_beside_python

MIN_RAM_MB = 1800          # a "2 GB" PC reports a little less than 2048 MB
MIN_DISK_BYTES = 15 * 10**9  # a "16 GB" disk holds a little less than 16e9 bytes once formatted
# Debian major versions the playbooks support: 13 for new installs, 12 (LTS) still supported.
CURRENT_DEBIAN, SUPPORTED_DEBIAN = "13", ("13", "12")


@dataclass(frozen=True)
class Verdict:
    suitable: bool
    summary: list[str]
    missing: list[str]


def grade(facts: dict) -> Verdict:
    """Compare Ansible facts with the minimum: x86-64, 2 GB of RAM, a 16 GB disk, Debian 13 or 12."""
    missing: list[str] = []
    summary: list[str] = []
    arch = facts.get("architecture", "?")
    summary.append(f"Processeur : {arch}")
    if arch != "x86_64":
        missing.append(f"processeur {arch} : il faut un PC 64 bits (x86-64).")
    ram = int(facts.get("memtotal_mb") or 0)
    summary.append(f"Mémoire : {_gigabytes(ram / 1024)} Go")
    if ram < MIN_RAM_MB:
        missing.append(f"mémoire de {_gigabytes(ram / 1024)} Go : il faut 2 Go au moins. Ajoutez une barrette.")
    root = next((m for m in facts.get("mounts", []) if m.get("mount") == "/"), None)
    if root is None:
        summary.append("Disque (système) : taille inconnue")
        missing.append("taille du disque inconnue (le poste ne l'a pas donnée) : vérifiez qu'il a 16 Go au moins.")
    else:
        disk = int(root.get("size_total", 0))
        summary.append(f"Disque (système) : {disk / 10**9:.0f} Go")
        if disk < MIN_DISK_BYTES:
            missing.append(f"disque de {disk / 10**9:.0f} Go : il faut 16 Go au moins.")
    distribution = f"{facts.get('distribution', '?')} {facts.get('distribution_version', '?')}"
    summary.append(f"Système : {distribution}")
    major = str(facts.get("distribution_major_version"))
    if facts.get("distribution") != "Debian" or major not in SUPPORTED_DEBIAN:
        missing.append(f"système {distribution} : installez Debian {CURRENT_DEBIAN} (voir le guide, étape 2).")
    elif major != CURRENT_DEBIAN:
        summary.append(f"Debian {major} convient encore, mais une nouvelle installation se fait en Debian "
                       f"{CURRENT_DEBIAN} (Debian 12 ne reçoit plus que les correctifs du suivi à long terme).")
    return Verdict(suitable=not missing, summary=summary, missing=missing)


def _gigabytes(value: float) -> str:
    return f"{value:.1f}".replace(".", ",")


class UnreachableError(Exception):
    """The machine could not be reached or did not answer; the message says why, in French."""


def gather_facts(host: str, user: str, port: int, connection: str) -> dict:
    """Collect the facts of ``host`` with Ansible's setup module (nothing is changed on it)."""
    with tempfile.TemporaryDirectory(prefix="provision-check-") as scratch:
        # An alias: Ansible names files after hosts, and a chroot's address is a path.
        if connection == "chroot":
            inventory = f"poste ansible_host={host} ansible_connection=community.general.chroot"
        else:
            inventory = f"poste ansible_host={host} ansible_user={user} ansible_port={port}"
        inventory += " ansible_python_interpreter=/usr/bin/python3"
        Path(scratch, "inventory").mkdir()
        Path(scratch, "inventory", "hosts").write_text(inventory + "\n", encoding="utf-8")
        use_ansible_beside_python()
        runner = ansible_runner.run(
            private_data_dir=scratch, host_pattern="poste", module="ansible.builtin.setup",
            module_args="gather_subset=!all,!min,hardware,distribution,platform", quiet=True,
            envvars={"ANSIBLE_NOCOLOR": "1"}, suppress_env_files=True)
        for event in runner.events:
            data = event.get("event_data", {})
            if event.get("event") == "runner_on_ok":
                facts = data.get("res", {}).get("ansible_facts", {})
                return {key.removeprefix("ansible_"): value for key, value in facts.items()}
            if event.get("event") in ("runner_on_unreachable", "runner_on_failed"):
                message = str(data.get("res", {}).get("msg", "")).strip()
                raise UnreachableError(f"le poste {host} ne répond pas ({message}). Vérifiez qu'il est allumé, "
                                       "son adresse, et que votre clé SSH y est installée (guide, étape 3).")
    raise UnreachableError(f"le poste {host} n'a rien répondu. Vérifiez son adresse et la connexion SSH.")
