"""`provision audit`'s judgement of a machine's observations: each item fails on its own broken
post-condition and says what to do (the probe itself is exercised on a booted machine over SSH in
test_ssh_audit.py)."""

from __future__ import annotations

import copy
import dataclasses

import pytest

from provision_runs import EXAMPLE_INVENTORY, REPO
from provisioning.provision.audit import grade
from provisioning.provision.inventory import load_inventory

INVENTORY = load_inventory(EXAMPLE_INVENTORY, REPO / "config" / "services.yaml")
NOW = 1_800_000_000.0

# What the probe reports on a kiosk that holds every post-condition (shape of audit_probe.py's output).
SOUND = {
    "now": NOW, "container": False,
    "sshd": {"ok": True, "error": "", "values": {"passwordauthentication": "no", "kbdinteractiveauthentication": "no",
                                                 "permitrootlogin": "no", "authenticationmethods": "publickey"}},
    "authorized_keys": "# managed\n" + "\n".join(INVENTORY.association.ssh_keys) + "\n",
    "ruleset": ("table inet kiosk {\n chain input {\n  type filter hook input priority filter; policy drop;\n"
                "  ip saddr 192.168.1.0/24 tcp dport 22 accept\n }\n chain output {\n"
                "  type filter hook output priority filter; policy drop;\n  ip daddr @fleet_v4 tcp dport 443 accept\n }\n}\n"),
    "units": {"kiosk-session.service": "active", "kiosk-agent.service": "active"},
    "getty_tty1": "masked", "active_gettys": [], "logind": "[Login]\nNAutoVTs=0\n",
    "xorg": 'Section "ServerFlags"\n Option "DontVTSwitch" "true"\nEndSection\n',
    "sysrq_live": "0", "sysrq_configured": "kernel.sysrq = 0\n",
    "session_groups": ["kiosk", "kiosk-events"], "session_sudo": "User kiosk may run: (ALL : ALL) !ALL",
    "su": {"mode": "0o4750", "gid": 27, "group": "sudo"},
    "secrets": {"/etc/kiosk/enrolment-code": False, "/var/lib/kiosk-agent/token.json": False},
    "agent": {"enrolled": True, "spool": {"exists": True, "oldest_pending_at": NOW - 300, "pending": 2}},
    "disk": {"free_bytes": 40 * 10**9, "total_bytes": 120 * 10**9},
    "updates": {"ok": True, "pending": [], "lists_at": NOW - 86400},
    "time": {"synchronized": "yes"},
}


def _broken(path, value):
    facts = copy.deepcopy(SOUND)
    target = facts
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return facts


def test_a_sound_machine_passes_every_item():
    checks = grade(SOUND, INVENTORY)
    assert [check.id for check in checks if not check.ok] == []
    assert all(check.remedy == "" for check in checks)


@pytest.mark.parametrize("path, value, item", [
    (["sshd", "values", "passwordauthentication"], "yes", "ssh"),
    (["authorized_keys"], "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOtherKeyOfSomeoneElse0000000000000000000 x\n", "ssh"),
    (["ruleset"], "", "firewall"),
    (["active_gettys"], ["getty@tty2.service"], "getty"),
    (["xorg"], "", "vt_switch"),
    (["sysrq_live"], "438", "sysrq"),
    (["session_groups"], ["kiosk", "kiosk-events", "sudo"], "session_user"),
    (["su", "mode"], "0o4755", "session_user"),
    (["secrets", "/etc/kiosk/enrolment-code"], True, "secrets"),
    (["agent", "enrolled"], False, "agent"),
    (["agent", "spool", "oldest_pending_at"], NOW - 3 * 86400, "agent"),
    (["units", "kiosk-session.service"], "failed", "session"),
    (["disk", "free_bytes"], 10**9, "disk"),
    (["updates", "pending"], ["openssl"], "updates"),
    (["updates", "lists_at"], NOW - 30 * 86400, "updates"),
    (["time", "synchronized"], "no", "time"),
])
def test_each_broken_post_condition_fails_its_own_item_and_says_what_to_do(path, value, item):
    checks = {check.id: check for check in grade(_broken(path, value), INVENTORY)}
    assert [name for name, check in checks.items() if not check.ok] == [item]
    assert checks[item].remedy


def test_in_a_container_the_host_kernel_and_clock_are_not_held_against_the_kiosk():
    facts = _broken(["sysrq_live"], "438")
    facts["container"] = True
    facts["time"]["synchronized"] = "no"
    assert all(check.ok for check in grade(facts, INVENTORY))


@pytest.mark.parametrize("percent, gigabytes, ok", [
    (10, 2, True),     # the defaults: 40 GB free of 120 (33 %)
    (33, 0, True),
    (34, 0, False),    # a share above the free space's
    (0, 41, False),    # more gigabytes than are free
    (0, 0, True),
])
def test_the_free_disk_item_follows_the_inventorys_thresholds(percent, gigabytes, ok):
    inventory = dataclasses.replace(INVENTORY, association=INVENTORY.association.model_copy(
        update={"audit_min_free_disk_percent": percent, "audit_min_free_disk_gb": gigabytes}))
    disk = next(check for check in grade(SOUND, inventory) if check.id == "disk")
    assert disk.ok is ok, disk
    assert f"{percent:g} % et {gigabytes:g} Go au moins" in disk.detail
    assert bool(disk.remedy) is not ok
