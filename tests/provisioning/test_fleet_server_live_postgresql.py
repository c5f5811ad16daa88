"""playbooks/fleet-server.yml applied LIVE with PostgreSQL, as over SSH on the association's server: a
bare Debian 13 root filesystem (the server's packages, nothing configured) is booted with
systemd-nspawn --private-network, the playbook runs inside it through its namespaces
(community.docker.nsenter), then again without change; the API answers through nginx over TLS and a
PostgreSQL backup restores.

On Debian 13 only, the release a new fleet server gets: the role's PostgreSQL part (a few tasks and
Debian's own postgresql packages) is the same on both releases, and the role as a whole is proven on
Debian 12 by test_fleet_server.py (applied twice, booted, backup restored, with SQLite). A full live
run costs ~3 min of the suite's critical path (issue 14: the whole suite in 25 minutes)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import Overlays
from fleet_server_runs import (PlaybookResult, apply_twice, booted_connection, client, enrol, server_base,
                               server_variables, wait_for_the_api, write_inventory)

# The first fixture may build the server root filesystem and the wheelhouse, then apply twice.
# Skipped on the other releases before any fixture is set up (tests/provisioning/conftest.py).
pytestmark = [pytest.mark.system, pytest.mark.timeout(2400), pytest.mark.newest_release_only]


@dataclass
class LiveServer:
    machine: object
    certificate: Path
    first: PlaybookResult
    second: PlaybookResult


@pytest.fixture(scope="module")
def live(system_or_skip, release, tmp_path_factory):
    from nspawn_machine import BootedMachine

    overlays = Overlays(server_base(release), tmp_path_factory.mktemp(f"live-overlays-{release}"))
    workspace = tmp_path_factory.mktemp(f"live-fleet-server-{release}")
    machine = None
    try:
        overlay = overlays.create("live")
        machine = BootedMachine(overlay.root, workspace / "console.log")
        machine.boot()
        machine.wait_until_settled()
        variables, certificate = server_variables(workspace, fleet_server__database="postgresql")
        inventory = write_inventory(workspace / "inventory", booted_connection(machine.leader), variables)
        first, second = apply_twice(inventory)
        yield LiveServer(machine, certificate, first, second)
    finally:
        if machine is not None:
            machine.shutdown()
        overlays.cleanup()


def test_fleet_server_live_run_with_postgresql_succeeds_then_changes_nothing(live):
    assert live.first.returncode == 0, live.first.output[-5000:]
    assert live.first.recap()["changed"] > 15
    assert live.second.returncode == 0, live.second.output[-5000:]
    assert live.second.recap()["changed"] == 0, live.second.changed_tasks()


def test_fleet_server_live_postgresql_answers_through_nginx_and_restores_a_backup(live):
    machine = live.machine
    wait_for_the_api(machine, live.certificate)
    url = machine.run("sh", "-c", ". /etc/fleet-server/fleet-server.env; echo $FLEET_DATABASE_URL").stdout.strip()
    assert url.startswith("postgresql+psycopg://fleet-server@/fleet"), url
    kept = enrol(machine, live.certificate, "PG-0001")
    assert client(machine, live.certificate, "checkin", kept, "1")["status"] == 200

    machine.run("systemctl", "start", "fleet-server-backup.service", timeout=120)
    backups = machine.run("sh", "-c", "ls -1t /var/backups/fleet-server/fleet-*.pgdump").stdout.split()
    assert backups
    later = enrol(machine, live.certificate, "PG-0002")
    assert client(machine, live.certificate, "checkin", later, "1")["status"] == 200

    restored = machine.run("/usr/local/sbin/fleet-server-restore", backups[0], timeout=180)
    assert "restaurée" in restored.stdout, restored.stdout + restored.stderr
    wait_for_the_api(machine, live.certificate, 60)
    assert client(machine, live.certificate, "checkin", kept, "2")["status"] == 200
    assert client(machine, live.certificate, "checkin", later, "2")["status"] == 401
    revision = machine.run("runuser", "-u", "postgres", "--", "psql", "-tAc", "select version_num from alembic_version",
                           "fleet").stdout.strip()
    assert revision, "the restored database has no Alembic revision"
    # The store before the restore was kept aside.
    assert machine.run("sh", "-c", "ls /var/backups/fleet-server/avant-restauration-*.pgdump").returncode == 0
    assert json.loads(client(machine, live.certificate, "get", "/api/v1/ping")["body"]) == {"ok": True}
