"""playbooks/fleet-server.yml applied to a real Debian 12 root filesystem (chroot connection, SQLite
store), re-applied without change, then booted with systemd-nspawn --private-network: the API and the
dashboard answer through nginx over TLS (a self-signed certificate made here), slow clients do not
stall them, and a nightly backup restores. The clients run inside the container's network namespace
(fleet_server_client.py): they reach its loopback and nothing else."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

import debian_rootfs as rootfs
from conftest import Overlays
from fleet_server_runs import (HOST, SERVER_NAME, PlaybookResult, run_playbook, self_signed_certificate,
                               server_wheelhouse, write_inventory)

pytestmark = pytest.mark.system

CLIENT = Path(__file__).with_name("fleet_server_client.py")
SLOW_CONNECTIONS = 10
HEADER_TIMEOUT_S = 10  # the role's default fleet_server__nginx_client_header_timeout_s


@dataclass
class AppliedServer:
    root: Path
    workspace: Path
    variables: dict
    certificate: Path
    first: PlaybookResult
    second: PlaybookResult


@pytest.fixture(scope="module")
def server_overlays(system_or_skip, tmp_path_factory):
    started = time.monotonic()
    base = rootfs.server_rootfs()
    print(f"\nserver root filesystem {base} ready in {time.monotonic() - started:.0f} s")
    manager = Overlays(base, tmp_path_factory.mktemp("server-overlays"))
    yield manager
    manager.cleanup()


@pytest.fixture(scope="module")
def applied(server_overlays, tmp_path_factory) -> AppliedServer:
    overlay = server_overlays.create("fleet-server")
    workspace = tmp_path_factory.mktemp("fleet-server")
    version, archive = server_wheelhouse(workspace)
    certificate, key = self_signed_certificate(workspace / "tls")
    variables = {
        "fleet_server__version": version, "fleet_server__wheelhouse_archive": str(archive),
        "fleet_server__server_name": SERVER_NAME,
        "fleet_server__tls_certificate_src": str(certificate), "fleet_server__tls_certificate_key_src": str(key),
        # What the inventory's vault holds in production.
        "fleet_server__secret_key": secrets.token_urlsafe(48),
        "fleet_server__metrics_token": secrets.token_urlsafe(32),
    }
    inventory = write_inventory(workspace / "inventory", overlay.root, variables)
    first = run_playbook(inventory)
    second = run_playbook(inventory) if first.returncode == 0 else first
    return AppliedServer(overlay.root, workspace, variables, certificate, first, second)


@pytest.fixture(scope="module")
def server(applied, tmp_path_factory):
    """The applied system booted; always powered off afterwards."""
    from nspawn_machine import BootedMachine

    assert applied.second.returncode == 0, applied.second.output[-5000:]
    machine = BootedMachine(applied.root, tmp_path_factory.mktemp("server-nspawn") / "console.log")
    try:
        machine.boot()
        machine.state = machine.wait_until_settled()
        _wait_for(lambda: _client_or_none(machine, applied, "get", "/api/v1/ping"), 90,
                  "the API through nginx", lambda: machine.run("journalctl", "--no-pager", "-n", "60",
                                                               "-u", "fleet-server.service", check=False).stdout)
        yield machine
    finally:
        machine.shutdown()


def _client(machine, applied, *args: str, timeout: float = 120) -> dict:
    result = subprocess.run(["nsenter", "--target", str(machine.leader), "--net", "--", sys.executable, str(CLIENT),
                             str(applied.certificate), SERVER_NAME, *args],
                            capture_output=True, text=True, timeout=timeout, check=False)
    assert result.returncode == 0, f"client {args[0]} failed: {result.stderr[-3000:]}"
    return json.loads(result.stdout.strip().splitlines()[-1])


def _client_or_none(machine, applied, *args: str):
    try:
        answer = _client(machine, applied, *args, timeout=30)
    except AssertionError:
        return None
    return answer if answer["status"] == 200 else None


def _wait_for(predicate, timeout_s: float, what: str, explain=lambda: ""):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}\n{explain()}")


def _enrol(machine, applied, asset_tag: str) -> str:
    code = machine.run("/usr/local/sbin/fleet", "enrolment-code", "65059", "--name", "Bagnères-de-Luchon").stdout.strip()
    answer = _client(machine, applied, "enrol", code, asset_tag, "65059")
    assert answer["status"] == 201, answer
    return json.loads(answer["body"])["token"]


def test_fleet_server_first_run_succeeds(applied):
    assert applied.first.returncode == 0, applied.first.output[-5000:]
    assert applied.first.recap()["failed"] == 0
    assert applied.first.recap()["changed"] > 15


def test_fleet_server_second_run_changes_nothing(applied):
    assert applied.second.returncode == 0, applied.second.output[-5000:]
    counts = applied.second.recap()
    assert counts["changed"] == 0, applied.second.changed_tasks()
    assert counts["failed"] == 0 and counts["unreachable"] == 0


@pytest.mark.parametrize("secret", ["", "change-me", "trop-court"])
def test_fleet_server_playbook_refuses_to_run_without_a_real_secret(applied, secret):
    inventory = write_inventory(applied.workspace / f"sans-secret-{len(secret)}", applied.root,
                                {**applied.variables, "fleet_server__secret_key": secret})
    result = run_playbook(inventory)
    assert result.returncode != 0
    assert "La clé secrète du serveur (fleet_server__secret_key) manque ou ne convient pas" in result.output
    assert result.recap()["changed"] == 0 and result.recap()["failed"] == 1


def test_fleet_server_secrets_are_readable_by_the_service_only(applied):
    def chroot(*command):
        return subprocess.run(["chroot", str(applied.root), *command], capture_output=True, text=True, check=True).stdout

    settings = chroot("stat", "-c", "%U:%G %a", "/etc/fleet-server/fleet-server.env").split()
    assert settings == ["root:fleet-server", "640"]
    assert chroot("stat", "-c", "%U:%G %a", "/etc/fleet-server/tls/privkey.pem").split() == ["root:root", "600"]
    assert applied.variables["fleet_server__secret_key"] in (applied.root / "etc/fleet-server/fleet-server.env").read_text()
    assert applied.variables["fleet_server__secret_key"] not in applied.first.output + applied.second.output
    assert chroot("getent", "passwd", "fleet-server").strip().endswith(":/usr/sbin/nologin")
    chroot("nginx", "-t", "-q")


def test_fleet_server_boots_with_no_failed_unit_and_its_timers(server):
    failed = server.run("systemctl", "list-units", "--state=failed", "--no-legend", "--plain").stdout.strip()
    assert failed == "", failed
    for unit in ("fleet-server.service", "nginx.service", "fleet-server-prune.timer", "fleet-server-backup.timer"):
        assert server.run("systemctl", "is-active", unit, check=False).stdout.strip() == "active", unit
    server.run("systemctl", "start", "fleet-server-prune.service")
    assert server.run("systemctl", "show", "--property=Result", "--value",
                      "fleet-server-prune.service").stdout.strip() == "success"


def test_fleet_server_gunicorn_runs_sandboxed_as_its_own_user(server):
    pid = server.run("systemctl", "show", "--property=MainPID", "--value", "fleet-server.service").stdout.strip()
    assert server.run("ps", "-o", "user=", "-p", pid).stdout.strip() == "fleet-server"
    report = server.run("systemd-analyze", "security", "fleet-server.service", check=False).stdout
    exposure = float(report.rsplit("Overall exposure level for fleet-server.service:", 1)[1].split()[0])
    assert exposure <= 2.5, report


def test_fleet_server_api_and_dashboard_answer_through_nginx_over_tls(server, applied):
    ping = _client(server, applied, "get", "/api/v1/ping")
    assert ping["status"] == 200 and json.loads(ping["body"]) == {"ok": True}
    assert ping["headers"]["strict-transport-security"].startswith("max-age=31536000")
    assert ping["headers"]["x-content-type-options"] == "nosniff"
    assert "nginx/" not in ping["headers"].get("server", "")

    login = _client(server, applied, "get", "/connexion")
    assert login["status"] == 200 and "<h1>Connexion</h1>" in login["body"], login
    assert login["headers"]["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in login["headers"]["content-security-policy"]

    token = _enrol(server, applied, "AB-0001")
    first = _client(server, applied, "checkin", token, "1")
    assert first["status"] == 200 and json.loads(first["body"])["ok"] is True, first
    assert _client(server, applied, "checkin", "x" * 43, "2")["status"] == 401

    plain = _client(server, applied, "plain", "/api/v1/ping")
    assert plain["status"] == 301 and plain["headers"]["location"] == f"https://{SERVER_NAME}/api/v1/ping"


def test_fleet_server_nginx_refuses_bodies_above_the_apps_limit_in_the_apis_shape(server, applied):
    assert _client(server, applied, "post", "/api/v1/checkin", "1000")["status"] == 401  # the app answers
    too_large = _client(server, applied, "post", "/api/v1/checkin", "1100000")
    assert too_large["status"] == 413
    assert json.loads(too_large["body"]) == {"ok": False, "error": "the body is larger than 1048576 bytes",
                                             "errors": [], "status": 413}


def test_fleet_server_slow_clients_do_not_stall_kiosks_or_staff(server, applied):
    token = _enrol(server, applied, "AB-0002")
    result = _client(server, applied, "slow", token, "1", str(SLOW_CONNECTIONS))
    assert result["open_before"] == 2 * SLOW_CONNECTIONS, result
    assert [c["status"] for c in result["checkins"]] == [200] * 5, result
    assert [p["status"] for p in result["pages"]] == [200] * 5, result
    slowest = max(entry["seconds"] for entry in result["checkins"] + result["pages"])
    assert slowest < 1.0, result
    # nginx's timeouts end them: none is held forever.
    assert result["left_after_timeout"] == 0, result
    assert result["closed_within_s"] <= HEADER_TIMEOUT_S + 5, result


def test_fleet_server_nightly_backup_restores(server, applied):
    kept = _enrol(server, applied, "AB-0010")
    assert _client(server, applied, "checkin", kept, "1")["status"] == 200
    server.run("systemctl", "start", "fleet-server-backup.service")
    assert server.run("systemctl", "show", "--property=Result", "--value",
                      "fleet-server-backup.service").stdout.strip() == "success"
    backups = server.run("sh", "-c", "ls -1t /var/backups/fleet-server/fleet-*.sqlite.gz").stdout.split()
    assert backups, "no backup written"
    assert server.run("stat", "-c", "%U %a", backups[0]).stdout.split() == ["fleet-server", "600"]

    later = _enrol(server, applied, "AB-0011")
    assert _client(server, applied, "checkin", later, "1")["status"] == 200

    refused = server.run("/usr/local/sbin/fleet-server-restore", "/etc/hostname", check=False)
    assert refused.returncode == 2 and "n’est pas une sauvegarde lisible ; rien n’a été changé" in refused.stderr
    assert _client(server, applied, "checkin", later, "2")["status"] == 200

    restored = server.run("/usr/local/sbin/fleet-server-restore", backups[0], timeout=120)
    assert "restaurée" in restored.stdout
    _wait_for(lambda: _client_or_none(server, applied, "get", "/api/v1/ping"), 60, "the API after the restore")
    assert _client(server, applied, "checkin", kept, "2")["status"] == 200      # in the backup
    assert _client(server, applied, "checkin", later, "3")["status"] == 401     # enrolled after it
    assert server.run("sh", "-c", "ls /var/lib/fleet-server/fleet.db.avant-restauration-*").returncode == 0
