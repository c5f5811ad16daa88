"""`provision run` and `provision check` end to end against real Debian 13 and 12 root filesystems
(chroot connection): progress, per-host summary, kept logs, exit codes."""

from __future__ import annotations

import re

import pytest
import yaml

from provision_runs import run_provision, write_inventory
from provisioning.provision.machine_check import grade

pytestmark = pytest.mark.system


def summary_row(output: str, host: str) -> list[str]:
    line = next(line for line in output.splitlines() if line.startswith("│ " + host))
    return [cell.strip() for cell in line.strip("│").split("│")]


def test_run_shows_live_progress(provisioned):
    output = provisioned.first.output
    steps = re.findall(r"^\[(\d+)/(\d+)\] Tâche : (.+?) — postes terminés : (\d+), en échec : (\d+)$", output, re.M)
    assert len(steps) > 60
    totals = {int(total) for _, total, _, _, _ in steps}
    assert len(totals) == 1 and totals.pop() >= 80
    assert [int(done) for done, *_ in steps] == sorted(int(done) for done, *_ in steps)
    assert any(name.startswith("kiosk : Installer la version exacte") for _, _, name, _, _ in steps)
    assert any(name.startswith("enrolment : ") for _, _, name, _, _ in steps)


def test_run_ends_with_a_per_host_summary_and_keeps_the_log(provisioned):
    output = provisioned.first.output
    assert "Bilan par poste" in output
    host, verdict, ok, changed, failed, skipped, duration = summary_row(output, provisioned.asset_tag)
    assert verdict == "réussi" and int(ok) > 50 and int(changed) > 20 and failed == "0"
    assert re.fullmatch(r"(\d+ min \d\d|\d+) s", duration)
    assert "Tous les postes sont prêts." in output
    log = provisioned.first.run_dir / "artifacts" / "ansible" / "stdout"
    assert f"Journal complet : {log}" in output
    assert "PLAY RECAP" in log.read_text(encoding="utf-8")
    # The wheelhouse's build log, when the run built it (the session's first run; a later release's installs
    # from it: conftest.py).
    assert (provisioned.first.run_dir / "build.log").exists() == provisioned.first_built_the_wheelhouse
    assert (provisioned.first.run_dir / "inventory" / "hosts.yml").exists()
    assert provisioned.first.run_dir != provisioned.second.run_dir


def test_second_run_summary_shows_no_change(provisioned):
    """…or, on the newest release, the changes of the one more run that brings central management to a
    kiosk provisioned before it (conftest.py; the dry run below then shows none)."""
    row = summary_row(provisioned.second.output, provisioned.asset_tag)
    assert row[1] == "réussi" and row[4] == "0"
    if provisioned.before_central_management is None:
        assert row[3] == "0"
    else:
        assert int(row[3]) > 0


# Once, on the newest release: `--check` and `--limit` are the command's and Ansible's, the same on both;
# that the playbooks change nothing on a provisioned Debian 12 is the second run's test there. On the
# newest, whose second run brought central management to a kiosk provisioned before it (conftest.py),
# this dry run is the proof that a further run changes nothing.
@pytest.mark.newest_release_only
def test_check_mode_with_limit_changes_nothing_and_only_touches_the_named_host(provisioned, extra_vars_file, tmp_path):
    association = yaml.safe_load(provisioned.inventory.read_text(encoding="utf-8"))["association"]

    def add_unreachable_machine(data):
        # The same keys (SSH, fleet) as the provisioned machine's.
        data["association"].update(ssh_keys=association["ssh_keys"], fleet_public_key=association["fleet_public_key"])
        other = dict(data["machines"][0], asset_tag="ASSO-2026-0099", address=str(tmp_path / "absent"),
                     enrolment_code="ZZZZ-0000-9999")
        data["machines"].append(other)
    inventory = write_inventory(tmp_path / "inventory", str(provisioned.root), add_unreachable_machine)
    result = run_provision("run", str(inventory), "--check", "--limit", provisioned.asset_tag,
                           "-e", str(extra_vars_file), "--wheelhouse", str(provisioned.wheelhouse),
                           runs_dir=tmp_path / "runs")
    assert result.returncode == 0, result.output[-3000:]
    assert "essai à blanc" in result.output
    assert summary_row(result.output, provisioned.asset_tag)[3] == "0", result.changed_tasks()
    assert "ASSO-2026-0099" not in result.output


def test_a_failed_host_makes_the_run_exit_1_and_says_why(tmp_path, extra_vars_file, system_or_skip):
    inventory = write_inventory(tmp_path / "inventory", str(tmp_path / "no-such-root"))
    result = run_provision("run", str(inventory), "-e", str(extra_vars_file), runs_dir=tmp_path / "runs")
    assert result.returncode == 1
    assert summary_row(result.output, "ASSO-2026-0042")[1] in ("injoignable", "échec")
    assert "ASSO-2026-0042 : la tâche" in result.output
    assert "Installation incomplète (en échec : ASSO-2026-0042)" in result.output
    assert (result.run_dir / "artifacts" / "ansible" / "stdout").exists()


def test_check_reports_the_facts_of_a_real_debian_system(overlays, release):
    """Through the chroot connection every fact but the disk is visible (a chroot has no mount of
    its own), so the verdict names exactly that; over SSH the disk is measured too (see grade tests)."""
    overlay = overlays.create("check")
    proc = overlays.mount_proc(overlay)
    try:
        result = run_provision("check", str(overlay.root), "--connection", "chroot", runs_dir=overlay.upper)
    finally:
        overlays.unmount(proc)
    assert "Processeur : x86_64" in result.output
    assert re.search(r"Mémoire : \d+,\d Go", result.output)
    major = {"bookworm": "12", "trixie": "13"}[release]
    assert re.search(rf"Système : Debian {major}(\.\d+)?$", result.output, re.M), result.output
    missing = [line for line in result.output.splitlines() if line.startswith("  - ")]
    assert missing == ["  - taille du disque inconnue (le poste ne l'a pas donnée) : vérifiez qu'il a 16 Go au moins."]
    assert result.returncode == 1


def test_check_says_when_a_host_cannot_be_reached(tmp_path, system_or_skip):
    result = run_provision("check", str(tmp_path / "absent"), "--connection", "chroot", runs_dir=tmp_path)
    assert result.returncode == 1
    assert "ne répond pas" in result.output


GOOD_FACTS = {"architecture": "x86_64", "memtotal_mb": 3900, "distribution": "Debian",
              "distribution_version": "13.2", "distribution_major_version": "13",
              "mounts": [{"mount": "/", "size_total": 120 * 10**9}]}


@pytest.mark.parametrize("change, missing", [
    ({"architecture": "i386"}, "64 bits"),
    ({"memtotal_mb": 990}, "2 Go au moins"),
    ({"mounts": [{"mount": "/", "size_total": 8 * 10**9}]}, "16 Go au moins"),
    ({"distribution_version": "11.9", "distribution_major_version": "11"}, "installez Debian 13"),
    ({"distribution_version": "14.0", "distribution_major_version": "14"}, "installez Debian 13"),
    ({"distribution": "Ubuntu", "distribution_version": "24.04", "distribution_major_version": "24"}, "installez Debian 13"),
])
def test_grading_names_what_is_missing(change, missing):
    verdict = grade({**GOOD_FACTS, **change})
    assert not verdict.suitable
    assert len(verdict.missing) == 1 and missing in verdict.missing[0]


def test_grading_accepts_the_minimum():
    verdict = grade({**GOOD_FACTS, "memtotal_mb": 1900, "mounts": [{"mount": "/", "size_total": 15_700_000_000}]})
    assert verdict.suitable and verdict.missing == []


def test_grading_accepts_debian_12_and_says_new_installs_get_13():
    verdict = grade({**GOOD_FACTS, "distribution_version": "12.12", "distribution_major_version": "12"})
    assert verdict.suitable
    assert any("nouvelle installation se fait en Debian 13" in line for line in verdict.summary)
    assert not any("convient encore" in line for line in grade(GOOD_FACTS).summary)


def test_grading_never_passes_a_disk_it_could_not_measure():
    verdict = grade({**GOOD_FACTS, "mounts": []})
    assert not verdict.suitable and "taille du disque inconnue" in verdict.missing[0]
