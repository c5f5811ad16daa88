"""playbooks/fleet-server.yml applied to a real Debian root filesystem, 13 and 12 (the `release`
fixture; chroot connection, SQLite store), re-applied without change, then booted with systemd-nspawn
--private-network: the API and the dashboard answer through nginx over TLS (a self-signed certificate
made here), slow clients do not stall them, and a nightly backup restores. The clients run inside the
container's network namespace (fleet_server_client.py): they reach its loopback and nothing else."""

from __future__ import annotations

import json
import secrets
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import Overlays
from fleet_server_runs import (SERVER_NAME, PlaybookResult, answer_or_none, apply_twice, chroot_connection, client, enrol,
                               run_playbook, server_base, server_variables, wait_for_the_api, write_inventory)
from nspawn_machine import wait_for

# The first fixture may build the server root filesystem and the wheelhouse, then apply twice.
pytestmark = [pytest.mark.system, pytest.mark.timeout(2400)]

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
def server_overlays(system_or_skip, release, tmp_path_factory):
    manager = Overlays(server_base(release), tmp_path_factory.mktemp(f"server-overlays-{release}"))
    yield manager
    manager.cleanup()


@pytest.fixture(scope="module")
def applied(server_overlays, release, tmp_path_factory) -> AppliedServer:
    overlay = server_overlays.create("fleet-server")
    workspace = tmp_path_factory.mktemp(f"fleet-server-{release}")
    variables, certificate = server_variables(workspace, fleet_server__metrics_token=secrets.token_urlsafe(32))
    inventory = write_inventory(workspace / "inventory", chroot_connection(overlay.root), variables)
    first, second = apply_twice(inventory)
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
        wait_for_the_api(machine, applied.certificate)
        yield machine
    finally:
        machine.shutdown()


def test_fleet_server_first_run_succeeds(applied):
    assert applied.first.returncode == 0, applied.first.output[-5000:]
    assert applied.first.recap()["failed"] == 0
    assert applied.first.recap()["changed"] > 15


def test_fleet_server_second_run_changes_nothing(applied):
    assert applied.second.returncode == 0, applied.second.output[-5000:]
    counts = applied.second.recap()
    assert counts["changed"] == 0, applied.second.changed_tasks()
    assert counts["failed"] == 0 and counts["unreachable"] == 0


@pytest.mark.parametrize("secret", [""])
def test_fleet_server_playbook_refuses_to_run_without_a_real_secret(applied, secret):
    inventory = write_inventory(applied.workspace / f"sans-secret-{len(secret)}", chroot_connection(applied.root),
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
    for unit in ("fleet-server.service", "fleet-server-relay.service", "nginx.service", "fleet-server-prune.timer",
                 "fleet-server-backup.timer", "fleet-server-followup.timer"):
        assert server.run("systemctl", "is-active", unit, check=False).stdout.strip() == "active", unit
        assert server.run("systemctl", "is-enabled", unit, check=False).stdout.strip() == "enabled", unit
    followup = server.run("systemctl", "show", "--property=Persistent", "--property=TimersCalendar",
                          "fleet-server-followup.timer").stdout
    assert "Persistent=yes" in followup and "OnCalendar=*-*-* *:00/15:00" in followup, followup
    server.run("systemctl", "start", "fleet-server-prune.service")
    assert server.run("systemctl", "show", "--property=Result", "--value",
                      "fleet-server-prune.service").stdout.strip() == "success"


@pytest.mark.parametrize("unit", ["fleet-server.service", "fleet-server-relay.service"])
def test_fleet_server_gunicorn_runs_sandboxed_as_its_own_user(server, unit):
    pid = server.run("systemctl", "show", "--property=MainPID", "--value", unit).stdout.strip()
    assert server.run("ps", "-o", "user=", "-p", pid).stdout.strip() == "fleet-server"
    report = server.run("systemd-analyze", "security", unit, check=False).stdout
    exposure = float(report.rsplit(f"Overall exposure level for {unit}:", 1)[1].split()[0])
    assert exposure <= 2.5, report


def test_fleet_server_nginx_routes_the_assistance_to_the_relay(server, applied):
    """Through nginx over TLS, the assistance endpoints reach the relay (its one process, port 8001) and get
    its answers: a poll without a token its 401, a kiosk's poll its long-poll answer. With the relay stopped
    they get nginx's 503 in the API's shape while the rest of the API still answers: they go to the relay
    and nowhere else."""
    token = enrol(server, applied.certificate, "AB-0020")

    anonymous = client(server, applied.certificate, "get", "/api/v1/assist/poll?wait=0")
    assert anonymous["status"] == 401 and json.loads(anonymous["body"])["ok"] is False, anonymous
    polled = client(server, applied.certificate, "device-get", token, "/api/v1/assist/poll?wait=2")
    assert polled["status"] == 200 and json.loads(polled["body"]) == {"ok": True, "assist": None}, polled
    assert polled["seconds"] >= 2, polled  # held by the relay for the wait asked, not cut by nginx
    mediator = client(server, applied.certificate, "get", "/tableau/assistance/1")
    assert mediator["status"] in (302, 303) and "/connexion" in mediator["headers"]["location"], mediator

    server.run("systemctl", "stop", "fleet-server-relay.service")
    try:
        stopped = client(server, applied.certificate, "device-get", token, "/api/v1/assist/poll?wait=0")
        assert stopped["status"] == 503 and json.loads(stopped["body"])["status"] == 503, stopped
        assert client(server, applied.certificate, "get", "/api/v1/ping")["status"] == 200
        assert client(server, applied.certificate, "get", "/tableau/assistance/1")["status"] == 502
    finally:
        server.run("systemctl", "start", "fleet-server-relay.service")
    wait_for(lambda: answer_or_none(server, applied.certificate, "device-get", token, "/api/v1/assist/poll?wait=0"),
             60, "the relay after its restart")


def test_fleet_server_api_and_dashboard_answer_through_nginx_over_tls(server, applied):
    ping = client(server, applied.certificate, "get", "/api/v1/ping")
    assert ping["status"] == 200 and json.loads(ping["body"]) == {"ok": True}
    assert ping["headers"]["strict-transport-security"].startswith("max-age=31536000")
    assert ping["headers"]["x-content-type-options"] == "nosniff"
    assert "nginx/" not in ping["headers"].get("server", "")

    login = client(server, applied.certificate, "get", "/connexion")
    assert login["status"] == 200 and "<h1>Connexion</h1>" in login["body"], login
    assert login["headers"]["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in login["headers"]["content-security-policy"]

    token = enrol(server, applied.certificate, "AB-0001")
    first = client(server, applied.certificate, "checkin", token, "1")
    assert first["status"] == 200 and json.loads(first["body"])["ok"] is True, first
    assert client(server, applied.certificate, "checkin", "x" * 43, "2")["status"] == 401

    plain = client(server, applied.certificate, "plain", "/api/v1/ping")
    assert plain["status"] == 301 and plain["headers"]["location"] == f"https://{SERVER_NAME}/api/v1/ping"


def test_fleet_server_followup_records_todays_statuses_as_its_user(server, applied):
    """`fleet suivi`, as its timer starts it: today's status of each machine lands in the store (the machine
    page's timeline, the report's availability), run by the server's user in the same sandbox."""
    token = enrol(server, applied.certificate, "AB-0003")
    assert client(server, applied.certificate, "checkin", token, "1")["status"] == 200
    server.run("systemctl", "start", "fleet-server-followup.service", timeout=180)
    assert server.run("systemctl", "show", "--property=Result", "--value",
                      "fleet-server-followup.service").stdout.strip() == "success"
    journal = server.run("journalctl", "--no-pager", "-o", "cat", "-u", "fleet-server-followup.service").stdout
    assert "État du jour relevé" in journal, journal
    today = server.run("date", "-u", "+%F").stdout.strip()
    statuses = json.loads(server.run("python3", "-c", STATUSES_OF_THE_DAY, today).stdout)
    assert statuses["AB-0003"] == "online", statuses
    assert statuses["availability"] and all(recorded > 0 for _, recorded in statuses["availability"]), statuses
    report = server.run("systemd-analyze", "security", "fleet-server-followup.service", check=False).stdout
    exposure = float(report.rsplit("Overall exposure level for fleet-server-followup.service:", 1)[1].split()[0])
    assert exposure <= 2.5, report
    owner = server.run("systemctl", "show", "--property=User", "--value", "fleet-server-followup.service").stdout
    assert owner.strip() == "fleet-server"


# Read inside the booted server, from the store's file (read-only): the day's statuses and the month's sums.
STATUSES_OF_THE_DAY = """
import json, sqlite3, sys
db = sqlite3.connect("file:/var/lib/fleet-server/fleet.db?mode=ro", uri=True)
found = dict(db.execute("SELECT asset_tag, status FROM dash_machine_status_days WHERE day = ?", (sys.argv[1],)))
found["availability"] = db.execute("SELECT available, recorded FROM dash_availability_monthly WHERE month = ?",
                                   (sys.argv[1][:7],)).fetchall()
print(json.dumps(found))
"""


def test_fleet_server_nginx_refuses_bodies_above_the_apps_limit_in_the_apis_shape(server, applied):
    assert client(server, applied.certificate, "post", "/api/v1/checkin", "1000")["status"] == 401  # the app answers
    too_large = client(server, applied.certificate, "post", "/api/v1/checkin", "1100000")
    assert too_large["status"] == 413
    assert json.loads(too_large["body"]) == {"ok": False, "error": "the body is larger than 1048576 bytes",
                                             "errors": [], "status": 413}


def test_fleet_server_slow_clients_do_not_stall_kiosks_or_staff(server, applied):
    token = enrol(server, applied.certificate, "AB-0002")
    result = client(server, applied.certificate, "slow", token, "1", str(SLOW_CONNECTIONS))
    assert result["open_before"] == 2 * SLOW_CONNECTIONS, result
    assert [c["status"] for c in result["checkins"]] == [200] * 5, result
    assert [p["status"] for p in result["pages"]] == [200] * 5, result
    slowest = max(entry["seconds"] for entry in result["checkins"] + result["pages"])
    assert slowest < 1.0, result
    # nginx's timeouts end them: none is held forever.
    assert result["left_after_timeout"] == 0, result
    assert result["closed_within_s"] <= HEADER_TIMEOUT_S + 5, result


def test_fleet_server_nightly_backup_restores(server, applied):
    kept = enrol(server, applied.certificate, "AB-0010")
    assert client(server, applied.certificate, "checkin", kept, "1")["status"] == 200
    server.run("systemctl", "start", "fleet-server-backup.service")
    assert server.run("systemctl", "show", "--property=Result", "--value",
                      "fleet-server-backup.service").stdout.strip() == "success"
    backups = server.run("sh", "-c", "ls -1t /var/backups/fleet-server/fleet-*.sqlite.gz").stdout.split()
    assert backups, "no backup written"
    assert server.run("stat", "-c", "%U %a", backups[0]).stdout.split() == ["fleet-server", "600"]

    later = enrol(server, applied.certificate, "AB-0011")
    assert client(server, applied.certificate, "checkin", later, "1")["status"] == 200

    refused = server.run("/usr/local/sbin/fleet-server-restore", "/etc/hostname", check=False)
    assert refused.returncode == 2 and "n’est pas une sauvegarde lisible ; rien n’a été changé" in refused.stderr
    assert client(server, applied.certificate, "checkin", later, "2")["status"] == 200

    restored = server.run("/usr/local/sbin/fleet-server-restore", backups[0], timeout=120)
    assert "restaurée" in restored.stdout
    wait_for_the_api(server, applied.certificate, 60)
    assert client(server, applied.certificate, "checkin", kept, "2")["status"] == 200      # in the backup
    assert client(server, applied.certificate, "checkin", later, "3")["status"] == 401     # enrolled after it
    assert server.run("sh", "-c", "ls /var/lib/fleet-server/fleet.db.avant-restauration-*").returncode == 0
