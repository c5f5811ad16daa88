"""The provisioned system booted with systemd-nspawn (private network): no failed unit, the kiosk
session up on a virtual X server and back after kill -9, the agent running, kiosk without sudo."""

from __future__ import annotations

import re
import time

import pytest
import yaml

from provision_runs import EXAMPLE_INVENTORY

pytestmark = pytest.mark.system


def _has_command(booted, name: str) -> bool:
    result = booted.run("/opt/kiosk/venv/bin/kiosk", "--help", check=False)
    return name in result.stdout


def _main_pid(booted, unit: str) -> int:
    return int(booted.run("systemctl", "show", "--property=MainPID", "--value", unit).stdout.strip())


def _wait_for(predicate, timeout_s: float, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def _stable_window(booted) -> int | None:
    """The PID of the running window if it has been up for at least 3 s."""
    result = booted.run("pgrep", "-u", "kiosk", "-f", "kiosk run /etc/kiosk", check=False)
    pids = result.stdout.split()
    if not pids:
        return None
    age = booted.run("ps", "-o", "etimes=", "-p", pids[0], check=False).stdout.strip()
    return int(pids[0]) if age and int(age) >= 3 else None


def test_no_unit_failed(booted):
    failed = booted.run("systemctl", "list-units", "--state=failed", "--no-legend", "--plain").stdout.strip()
    assert failed == "", failed
    assert booted.state in ("running", "starting"), booted.state


def test_kiosk_cannot_sudo_or_su(booted):
    sudo = booted.run("sudo", "-n", "true", user="kiosk", check=False)
    assert sudo.returncode != 0
    su = booted.run("su", "-c", "true", "root", user="kiosk", check=False)
    assert su.returncode != 0
    assert "Permission" in su.stderr or "permission" in su.stderr.lower()


def test_cups_runs_and_kiosk_may_print_but_not_administer(booted):
    _wait_for(lambda: booted.run("systemctl", "is-active", "cups.service", check=False).stdout.strip() == "active",
              30, "cups")
    booted.run("lpadmin", "-p", "essai", "-E", "-v", "ipp://127.0.0.1:9/ipp/print")
    printed = booted.run("lp", "-d", "essai", "/etc/hostname", user="kiosk", check=False)
    assert printed.returncode == 0 and "essai-" in printed.stdout, printed.stderr
    administer = booted.run("lpadmin", "-p", "autre", "-E", "-v", "ipp://127.0.0.1:9/ipp/print", user="kiosk", check=False)
    assert administer.returncode != 0
    assert "autre" not in booted.run("lpstat", "-v", check=False).stdout


def test_firewall_is_loaded_at_boot(booted):
    ruleset = booted.run("nft", "list", "ruleset").stdout
    assert "table inet kiosk" in ruleset and "policy drop" in ruleset


def test_kiosk_session_is_active_and_comes_back_after_kill_9(booted):
    if not _has_command(booted, "run"):
        pytest.skip("`kiosk run` does not exist yet (window issue): the session restarts in a loop until it lands")
    _wait_for(lambda: booted.run("pgrep", "-x", "Xvfb", check=False).returncode == 0, 30, "the X server")
    first = _wait_for(lambda: _stable_window(booted), 60, "the kiosk window")
    assert booted.run("systemctl", "is-active", "kiosk-session.service").stdout.strip() == "active"
    session = _main_pid(booted, "kiosk-session.service")
    booted.run("kill", "-9", str(session))
    _wait_for(lambda: booted.run("kill", "-0", str(first), check=False).returncode != 0, 30, "the old window to end")
    second = _wait_for(lambda: _stable_window(booted), 60, "the kiosk window after kill -9")
    assert second != first
    assert _main_pid(booted, "kiosk-session.service") != session
    assert booted.run("systemctl", "is-active", "kiosk-session.service").stdout.strip() == "active"


def test_agent_service_is_active(booted):
    if not _has_command(booted, "agent"):
        pytest.skip("`kiosk agent` does not exist yet (telemetry issue)")
    _wait_for(lambda: booted.run("systemctl", "is-active", "kiosk-agent.service", check=False).stdout.strip() == "active",
              30, "the agent")
    time.sleep(3)
    assert booted.run("systemctl", "is-active", "kiosk-agent.service").stdout.strip() == "active"
    assert int(booted.run("systemctl", "show", "--property=NRestarts", "--value", "kiosk-agent.service").stdout) == 0


def test_screen_follows_the_opening_hours(booted):
    """kiosk-screen.service applies the example inventory's hours: no blanking while open, blanking
    after 300 s of inactivity outside (Xvfb has no DPMS: the screen saver timeout tells)."""
    if not _has_command(booted, "run"):
        pytest.skip("`kiosk run` does not exist yet (window issue)")
    _wait_for(lambda: booted.run("pgrep", "-x", "Xvfb", check=False).returncode == 0, 30, "the X server")
    booted.run("systemctl", "start", "kiosk-screen.service")
    assert booted.run("systemctl", "show", "--property=Result", "--value", "kiosk-screen.service").stdout.strip() == "success"
    weekday, minutes = booted.run("date", "+%u %H%M").stdout.split()
    hours = yaml.safe_load(EXAMPLE_INVENTORY.read_text(encoding="utf-8"))["machines"][0]["site"]["opening_hours"]
    ranges = hours.get(["mo", "tu", "we", "th", "fr", "sa", "su"][int(weekday) - 1], [])
    now = int(minutes)
    is_open = any(int(r[:5].replace(":", "")) <= now < int(r[6:].replace(":", "")) for r in ranges)
    query = booted.run("xset", "-display", ":0", "q", user="kiosk").stdout
    timeout = re.search(r"timeout:\s+(\d+)", query).group(1)
    assert timeout == ("0" if is_open else "300"), query
