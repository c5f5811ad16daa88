"""`provision audit` and `provision run` over real SSH, with a key, against the booted machine.

The booted container has its own network namespace (systemd-nspawn --private-network) where its
sshd listens. The `provision` command runs in that namespace (nsenter --net, nothing else) and
reaches it at 127.0.0.1, the container's own loopback: no other address is ever used. The host
key is checked against the container's (known_hosts written by the test). A real fleet server
(gunicorn, SQLite) runs on the same loopback so that the agent can enrol, as it would at a town hall.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from provision_runs import PROVISION

pytestmark = pytest.mark.system

FLEET_PORT = 18080
SSH_ONLY_ITEMS = ["ssh", "firewall", "getty", "vt_switch", "sysrq", "session_user", "secrets", "agent",
                  "session", "disk", "updates", "time"]


class SshAccess:
    def __init__(self, booted, provisioned, admin_key: Path, workdir: Path) -> None:
        self.booted = booted
        self.netns = f"/proc/{booted.leader}/ns/net"
        data = yaml.safe_load(provisioned.inventory.read_text(encoding="utf-8"))
        data["association"]["connection"] = "ssh"
        data["machines"][0]["address"] = "127.0.0.1"
        # The container's / is the host's disk: the free-disk item is judged against thresholds the tests set
        # (none here; test_audit_fails_naming_the_firewall_when_it_is_flushed asks for more than is free).
        data["association"].update(audit_min_free_disk_percent=0, audit_min_free_disk_gb=0)
        self.inventory = provisioned.inventory.parent / "inventaire-ssh.yml"
        self.inventory.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        data["association"]["audit_min_free_disk_percent"] = 100  # more than any disk has free
        self.full_disk_inventory = provisioned.inventory.parent / "inventaire-ssh-disque-plein.yml"
        self.full_disk_inventory.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
        host_key = (provisioned.root / "etc/ssh/ssh_host_ed25519_key.pub").read_text().split()[:2]
        known_hosts = workdir / "known_hosts"
        known_hosts.write_text(f"127.0.0.1 {' '.join(host_key)}\n", encoding="utf-8")
        # One SSH connection per run, as Ansible's defaults give a volunteer (ControlMaster, kept 60 s), its
        # socket in the test's own directory: not a new key exchange and login for every task.
        self.control_dir = workdir / "cm"
        self.control_dir.mkdir()
        self.env = dict(os.environ, COLUMNS="160", TERM="dumb", ANSIBLE_PRIVATE_KEY_FILE=str(admin_key),
                        ANSIBLE_HOST_KEY_CHECKING="True",
                        ANSIBLE_SSH_ARGS=f"-o ControlMaster=auto -o ControlPersist=60s -o ControlPath={self.control_dir}/%C "
                                         f"-o IdentitiesOnly=yes -o StrictHostKeyChecking=yes "
                                         f"-o UserKnownHostsFile={known_hosts} -o BatchMode=yes")
        self.env.pop("FORCE_COLOR", None)

    def close_connections(self) -> None:
        for socket_path in self.control_dir.iterdir():
            subprocess.run(["ssh", "-o", f"ControlPath={socket_path}", "-O", "exit", "kiosque"],
                           capture_output=True, timeout=30, check=False)

    def in_netns(self, *command: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run(["nsenter", f"--net={self.netns}", "--", *command], capture_output=True, text=True,
                              env=self.env, timeout=timeout, check=False)

    def provision(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return self.in_netns(str(PROVISION), *args, timeout=timeout)

    def audit(self, *args: str, inventory: Path | None = None) -> subprocess.CompletedProcess:
        return self.provision("audit", str(inventory or self.inventory), *args, timeout=300)


@pytest.fixture(scope="module")
def ssh_access(booted, provisioned, admin_key, tmp_path_factory):
    access = SshAccess(booted, provisioned, admin_key, tmp_path_factory.mktemp("ssh-access"))
    deadline = time.monotonic() + 60
    while booted.run("systemctl", "is-active", "ssh.service", check=False).stdout.strip() != "active":
        assert time.monotonic() < deadline, "sshd did not start in the booted machine"
        time.sleep(0.5)
    yield access
    access.close_connections()


@pytest.fixture(scope="module")
def fleet_reached(booted, ssh_access, tmp_path_factory):
    """A real fleet server on the booted machine's loopback; the agent pointed at it and enrolled."""
    from provisioning.fleet.store.engine import make_engine
    from provisioning.fleet.enrolment import create_enrolment_code
    from provisioning.fleet.store.migrate import upgrade

    workdir = tmp_path_factory.mktemp("fleet")
    url = f"sqlite:///{workdir / 'fleet.db'}"
    upgrade(url)
    engine = make_engine(url)
    code = create_enrolment_code(engine, "31042", time.time(), 30, name="Bagnères-de-Luchon")
    engine.dispose()
    env = dict(os.environ, FLEET_DATABASE_URL=url, FLEET_SECRET_KEY="tests-" + os.urandom(16).hex())
    log = open(workdir / "gunicorn.log", "wb")
    server = subprocess.Popen(["nsenter", f"--net={ssh_access.netns}", "--", sys.executable, "-m", "gunicorn",
                               "--workers", "1", "--bind", f"127.0.0.1:{FLEET_PORT}", "--log-level", "warning",
                               "provisioning.fleet:create_app()"],
                              env=env, stdout=log, stderr=log, start_new_session=True)
    saved = {path: booted.run("cat", path).stdout for path in ("/etc/kiosk/agent.yaml", "/etc/kiosk/enrolment-code")}
    try:
        probe = f"import socket; socket.create_connection(('127.0.0.1', {FLEET_PORT}), timeout=1)"
        deadline = time.monotonic() + 60
        while ssh_access.in_netns(sys.executable, "-c", probe, timeout=30).returncode != 0:
            assert server.poll() is None and time.monotonic() < deadline, (workdir / "gunicorn.log").read_text()
            time.sleep(0.5)
        # The agent accepts plain http on loopback only: this is the town hall's fleet server, here.
        booted.run("sed", "-i", f"s|^fleet_url: .*|fleet_url: \"http://127.0.0.1:{FLEET_PORT}\"|", "/etc/kiosk/agent.yaml")
        booted.run("sh", "-c", f"printf '%s\\n' '{code}' > /etc/kiosk/enrolment-code")
        booted.run("systemctl", "restart", "kiosk-agent.service")
        deadline = time.monotonic() + 120
        while booted.run("test", "-s", "/var/lib/kiosk-agent/token.json", check=False).returncode != 0:
            assert time.monotonic() < deadline, booted.run("journalctl", "-u", "kiosk-agent", "--no-pager", "-n", "30").stdout
            time.sleep(1)
        yield
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()
        for path, content in saved.items():
            booted.run("sh", "-c", f"cat > {path} <<'EOF'\n{content}EOF")


def _json(result: subprocess.CompletedProcess) -> dict:
    assert result.stdout.strip(), result.stderr
    return json.loads(result.stdout)


def test_audit_passes_over_ssh_on_the_provisioned_machine(ssh_access, fleet_reached):
    result = ssh_access.audit("--json")
    report = _json(result)
    machine = report["machines"][0]
    failing = {check["id"]: check["detail"] for check in machine["checks"] if not check["ok"]}
    assert result.returncode == 0 and report["ok"], failing or machine["error"]
    assert [check["id"] for check in machine["checks"]] == SSH_ONLY_ITEMS

    french = ssh_access.audit()
    assert french.returncode == 0, french.stdout + french.stderr
    assert french.stdout.count("✓") == len(SSH_ONLY_ITEMS) and "✗" not in french.stdout
    assert "SSH : clés de l'association seulement" in french.stdout
    assert "Tous les postes sont conformes." in french.stdout


def test_audit_fails_naming_ssh_when_passwords_are_turned_back_on(booted, ssh_access, fleet_reached):
    drop_in = "/etc/ssh/sshd_config.d/00-tests-passwords.conf"
    booted.run("sh", "-c", f"echo 'PasswordAuthentication yes' > {drop_in}")
    booted.run("systemctl", "reload", "ssh.service")
    try:
        report = ssh_access.audit("--json")
        assert report.returncode == 1
        checks = {check["id"]: check for check in _json(report)["machines"][0]["checks"]}
        assert not checks["ssh"]["ok"] and "passwordauthentication yes" in checks["ssh"]["detail"]
        assert all(check["ok"] for name, check in checks.items() if name != "ssh")

        french = ssh_access.audit()
        assert french.returncode == 1
        line = next(line for line in french.stdout.splitlines() if "SSH :" in line)
        assert line.strip().startswith("✗")
        assert "À faire : Quelqu'un a changé la configuration de SSH" in french.stdout
        assert "À corriger sur : ASSO-2026-0042." in french.stdout
    finally:
        booted.run("rm", "-f", drop_in)
        booted.run("systemctl", "reload", "ssh.service")


def test_audit_fails_naming_the_firewall_when_it_is_flushed(booted, ssh_access, fleet_reached):
    """…and, in the same run, the free-disk item when the inventory asks for more free space than the disk has."""
    booted.run("nft", "flush", "ruleset")
    try:
        report = ssh_access.audit("--json", inventory=ssh_access.full_disk_inventory)
        assert report.returncode == 1
        checks = {check["id"]: check for check in _json(report)["machines"][0]["checks"]}
        assert not checks["firewall"]["ok"] and "table kiosk" in checks["firewall"]["detail"]
        assert not checks["disk"]["ok"] and "100 % et 0 Go au moins" in checks["disk"]["detail"], checks["disk"]
        assert "apt-get clean" in checks["disk"]["remedy"]
        assert sorted(name for name, check in checks.items() if not check["ok"]) == ["disk", "firewall"]
    finally:
        booted.run("systemctl", "restart", "nftables.service")


def test_audit_says_which_machine_is_unreachable(ssh_access, tmp_path):
    data = yaml.safe_load(ssh_access.inventory.read_text(encoding="utf-8"))
    data["association"]["ssh_port"] = 2  # nothing listens there on the container's loopback
    inventory = tmp_path / "injoignable.yml"
    inventory.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    result = ssh_access.provision("audit", str(inventory), timeout=300)
    assert result.returncode == 1
    assert "✗ Poste injoignable" in result.stdout and "À corriger sur : ASSO-2026-0042." in result.stdout


@pytest.mark.newest_release_only
def test_provision_run_over_ssh_with_a_key(ssh_access, provisioned, extra_vars_file, tmp_path):
    """The real command, through SSH and sudo, on the running machine: it succeeds and the machine
    still passes the SSH part of the audit afterwards. Once, on the newest release (a whole playbook
    run, ~2 min of CPU): the playbooks on Debian 12 are proven by its two chroot runs, and its sshd
    (keys only, sudo over SSH) by the audit tests above, which run over SSH on both releases."""
    result = ssh_access.provision("run", str(ssh_access.inventory), "-e", str(extra_vars_file), "--wheelhouse",
                                  str(provisioned.wheelhouse), "--runs-dir", str(tmp_path / "runs"),
                                  timeout=900)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "Tous les postes sont prêts." in result.stdout
    checks = {check["id"]: check["ok"] for check in _json(ssh_access.audit("--json"))["machines"][0]["checks"]}
    assert checks["ssh"] and checks["firewall"] and checks["session"] and checks["secrets"]
