"""The agent's parts on their own: its settings file, collectors on fake /proc and /sys trees, the spool
(strictly increasing sequence numbers, quota thinning with exact usage counts, events taken once)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from kiosk.agent.collectors.health import HealthCollector
from kiosk.agent.collectors.inventory import InventoryCollector
from kiosk.agent.spool import Spool
from kiosk.events import Event, EventKind, EventLog

VALID = """\
fleet_url: https://flotte.example.org
asset_tag: AB-0042
commune_insee: "65059"
enrolment_code_file: /etc/kiosk/enrolment-code
"""


def _run_agent_command(settings: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kiosk.cli", "agent", "--settings", str(settings)],
                          capture_output=True, text=True, timeout=30)


@pytest.mark.parametrize("text, field, words", [
    (VALID + "colour: blue\n", "colour", "clé inconnue"),
    (VALID.replace("asset_tag: AB-0042\n", ""), "asset_tag", "obligatoire"),
    (VALID.replace("https://flotte.example.org", "http://flotte.example.org"), "fleet_url", "https"),
    (VALID.replace("https://flotte.example.org", "ftp://x"), "fleet_url", "invalide"),
    (VALID.replace('"65059"', "6505"), "commune_insee", "mauvais format"),
    (VALID.replace("AB-0042", "ab 42"), "asset_tag", "mauvais format"),
    (VALID + "interval_s: often\n", "interval_s", "nombre entier"),
    (VALID + "interval_s: 0\n", "interval_s", "hors limites"),
    (VALID + "state_dir: relative/dir\n", "state_dir", "chemin absolu"),
    (VALID + "ca_file: /nonexistent/ca.pem\n", "ca_file", "introuvable"),
    ("fleet_url: [unclosed\n", "(fichier)", "YAML"),
])
def test_bad_settings_exit_2_naming_file_and_field(tmp_path, text, field, words):
    path = tmp_path / "agent.yaml"
    path.write_text(text)
    result = _run_agent_command(path)
    assert result.returncode == 2
    first = result.stderr.splitlines()[0]
    assert first.startswith(str(path)) and f" {field} : " in first and words in first, result.stderr
    assert "Réglages de l'agent refusés" in result.stderr
    assert "Traceback" not in result.stderr


def test_settings_accept_loopback_http_and_defaults(tmp_path):
    from kiosk.agent.settings import load_agent_settings
    path = tmp_path / "agent.yaml"
    path.write_text(VALID.replace("https://flotte.example.org", "http://127.0.0.1:8000/"))
    settings = load_agent_settings(path)
    assert settings.fleet_url == "http://127.0.0.1:8000"
    assert settings.state_dir == Path("/var/lib/kiosk-agent") and settings.events_dir == Path("/var/lib/kiosk/events")
    assert settings.interval_s == 300 and settings.spool_quota_mb == 50 and settings.ca_file is None


def test_missing_settings_file_is_named(tmp_path):
    result = _run_agent_command(tmp_path / "absent.yaml")
    assert result.returncode == 2 and str(tmp_path / "absent.yaml") in result.stderr


def _fake_proc(root: Path, busy: int, idle: int) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "stat").write_text(f"cpu  {busy} 0 0 {idle} 0 0 0 0 0 0\ncpu0 1 0 0 1 0 0 0\nbtime 1764000000\n")
    (root / "meminfo").write_text("MemTotal:        2000000 kB\nMemFree: 100 kB\nMemAvailable:     500000 kB\n")
    (root / "uptime").write_text("7200.50 10000.00\n")
    (root / "loadavg").write_text("0.75 0.50 0.25 1/100 4242\n")
    (root / "cpuinfo").write_text("processor\t: 0\nmodel name\t: Intel(R) Core(TM)2 Duo CPU E8400\n"
                                  "processor\t: 1\nmodel name\t: Intel(R) Core(TM)2 Duo CPU E8400\n")
    return root


def test_health_from_fake_proc_with_no_sensors(tmp_path):
    proc = _fake_proc(tmp_path / "proc", busy=100, idle=900)
    sys_root = tmp_path / "sys"
    sys_root.mkdir()
    collector = HealthCollector(proc, sys_root, disk_path=tmp_path)
    _fake_proc(proc, busy=150, idle=950)   # 50 busy ticks out of 100
    sample = collector.collect(kiosk_restarts=1)
    assert sample["cpu_percent"] == 50.0
    assert sample["memory_used_percent"] == 75.0 and sample["memory_available_bytes"] == 500000 * 1024
    assert sample["uptime_s"] == 7200.5 and sample["boot_time"] == 1764000000 and sample["load1"] == 0.75
    assert 0 <= sample["disk_used_percent"] <= 100
    assert "temperature_max_c" not in sample and "battery_percent" not in sample   # missing sensors: normal
    assert sample["kiosk_restarts"] == 1


def test_health_reads_sensors_when_present_and_survives_an_empty_proc(tmp_path):
    sys_root = tmp_path / "sys"
    hwmon = sys_root / "class" / "hwmon" / "hwmon0"
    hwmon.mkdir(parents=True)
    (hwmon / "temp1_input").write_text("48500\n")
    (hwmon / "temp2_input").write_text("61000\n")
    battery = sys_root / "class" / "power_supply" / "BAT0"
    battery.mkdir(parents=True)
    (battery / "capacity").write_text("87\n")
    (tmp_path / "proc").mkdir()
    collector = HealthCollector(tmp_path / "proc", sys_root, disk_path=tmp_path / "nowhere")
    sample = collector.collect()
    assert sample["temperature_max_c"] == 61.0 and sample["battery_percent"] == 87.0
    assert "cpu_percent" not in sample and "memory_used_percent" not in sample and "disk_used_percent" not in sample
    assert collector.trouble.counts["memory"] == 1 and collector.trouble.counts["disk"] == 1


def test_inventory_from_fake_sys_with_oem_placeholders(tmp_path):
    proc = _fake_proc(tmp_path / "proc", 1, 1)
    dmi = tmp_path / "sys" / "class" / "dmi" / "id"
    dmi.mkdir(parents=True)
    (dmi / "sys_vendor").write_text("Dell Inc.\n")
    (dmi / "product_name").write_text("OptiPlex 780\n")
    (dmi / "product_serial").write_text("To be filled by O.E.M.\n")
    disk = tmp_path / "sys" / "block" / "sda"
    (disk / "queue").mkdir(parents=True)
    (disk / "size").write_text("976773168\n")
    (disk / "queue" / "rotational").write_text("1\n")
    (tmp_path / "sys" / "block" / "loop0").mkdir()
    for name, mac in (("eth0", "00:1A:2B:3C:4D:5E"), ("lo", "00:00:00:00:00:00")):
        (tmp_path / "sys" / "class" / "net" / name).mkdir(parents=True)
        (tmp_path / "sys" / "class" / "net" / name / "address").write_text(mac + "\n")
    (tmp_path / "os-release").write_text('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n')
    inventory = InventoryCollector(proc, tmp_path / "sys", tmp_path / "os-release").collect()
    assert inventory["vendor"] == "Dell Inc." and inventory["serial"] == "To be filled by O.E.M."
    assert "uuid" not in inventory   # unreadable for our user: left out, not invented
    assert inventory["cpu_model"].startswith("Intel") and inventory["cpu_count"] == 2
    assert inventory["memory_bytes"] == 2000000 * 1024
    assert inventory["disks"] == [{"name": "sda", "size_bytes": 976773168 * 512, "rotational": True}]
    assert inventory["macs"] == ["00:1a:2b:3c:4d:5e"] and inventory["os"].startswith("Debian")
    from kiosk.protocol.validate import validate_checkin
    assert validate_checkin({"protocol": 1, "sent_at": 1764000000.0, "records": [
        {"seq": 1, "at": 1764000000.0, "type": "inventory", "data": inventory}]}) == []


def _usage_totals(spool: Spool) -> Counter:
    totals: Counter = Counter()
    for (body,) in spool.db.execute("SELECT body FROM records WHERE type = 'usage'"):
        for metric, key, count in json.loads(body)["counters"]:
            totals[(metric, key)] += count
    return totals


def test_quota_thins_health_and_merges_usage_keeping_counts_exact(tmp_path):
    spool = Spool(tmp_path / "spool.db", quota_bytes=96 * 1024)
    start = 1764000000.0
    expected: Counter = Counter()
    seqs = []
    for step in range(1500):
        at = start + step * 60
        seqs.append(spool.add_health(at, {"cpu_percent": 12.5, "memory_used_percent": 40.0, "load1": 0.5,
                                          "disk_free_bytes": 10**10, "uptime_s": float(step)}))
        if step % 5 == 0:
            events = [Event(EventKind.SESSION_STARTED, at), Event(EventKind.TILE_OPENED, at + 1, tile_id="impots"),
                      Event(EventKind.PAGES_PRINTED, at + 2, pages=3)]
            spool.store_events(events)
            expected.update({("sessions", ""): 1, ("tile_opened", "impots"): 1, ("pages_printed", ""): 3})
        if step == 20:
            offered = spool.next_batch(5)     # offered to the server: must never be merged afterwards
        spool.enforce_quota()
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert spool.used_bytes() <= 96 * 1024
    assert spool.count("health") < 1500                       # thinned
    assert _usage_totals(spool) == expected                    # ...but every count is still there
    assert spool.count("usage") < 300 // 4                     # 300 event batches merged into daily totals
    offered_seqs = {record["seq"] for record in offered}
    remaining = {row[0] for row in spool.db.execute("SELECT seq FROM records WHERE type = 'usage'")}
    assert {seq for seq in offered_seqs if seq in remaining} == {r["seq"] for r in offered if r["type"] == "usage"}
    newest = spool.add_health(start + 10**6, {})
    assert newest > max(seqs)                                   # never reused, even after deletes


def test_events_handed_over_twice_are_counted_once(tmp_path):
    """The agent dies after storing events but before the events file is removed: no double count."""
    spool = Spool(tmp_path / "spool.db")
    log = EventLog(tmp_path / "events")
    log.emit(Event(EventKind.SESSION_STARTED, 1764000000.0))
    log.emit(Event(EventKind.SESSION_ENDED, 1764000900.0, duration_s=900.0))

    class Died(Exception):
        pass

    def store_then_die(events):
        spool.store_events(events)
        raise Died()

    with pytest.raises(Died):
        log.take(store_then_die)
    assert log.take(spool.store_events) == 2      # the same events, handed over again
    assert log.take(spool.store_events) == 0
    assert _usage_totals(spool) == Counter({("sessions", ""): 1, ("session_length", "15-30m"): 1})
    assert spool.get_meta("last_session_at") == str(1764000900.0)


def test_agent_imports_stay_light():
    """The agent process must not load Flask, pydantic or SQLAlchemy (its memory budget is 40 MB)."""
    code = ("import sys, kiosk.cli, kiosk.agent.runner; "
            "print(sorted(m for m in ('flask', 'pydantic', 'sqlalchemy', 'jsonschema') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert result.stdout.strip() == "[]", result.stderr
