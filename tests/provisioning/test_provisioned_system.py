"""site.yml applied by `provision run` to a real Debian 12 root filesystem (chroot connection):
the second run changes nothing, and the result is what the roles promise."""

from __future__ import annotations

import re
import subprocess

import pytest
import yaml

pytestmark = pytest.mark.system


def chroot(system, *command, check=True):
    result = subprocess.run(["chroot", str(system.root), *command], capture_output=True, text=True,
                            timeout=120, check=False)
    if check:
        assert result.returncode == 0, f"{command}: {result.stdout}{result.stderr}"
    return result


def read(system, path):
    return (system.root / path.lstrip("/")).read_text(encoding="utf-8")


def recap(run, host):
    line = next(line for line in run.log.splitlines() if line.startswith(host) and "ok=" in line)
    return {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", line)}


def test_the_first_run_succeeds(provisioned):
    assert provisioned.first.returncode == 0, provisioned.first.output[-5000:]
    assert recap(provisioned.first, provisioned.asset_tag)["failed"] == 0
    assert recap(provisioned.first, provisioned.asset_tag)["changed"] > 20


def test_the_second_run_changes_nothing(provisioned):
    assert provisioned.second.returncode == 0, provisioned.second.output[-5000:]
    counts = recap(provisioned.second, provisioned.asset_tag)
    assert counts["changed"] == 0, provisioned.second.changed_tasks()
    assert counts["failed"] == 0 and counts["unreachable"] == 0


def test_users_and_groups(provisioned):
    kiosk = chroot(provisioned, "getent", "passwd", "kiosk").stdout.split(":")
    agent = chroot(provisioned, "getent", "passwd", "kiosk-agent").stdout.split(":")
    assert kiosk[6].strip() == agent[6].strip() == "/usr/sbin/nologin"
    assert int(kiosk[2]) < 1000 and int(agent[2]) < 1000
    assert chroot(provisioned, "id", "-nG", "kiosk").stdout.split() == ["kiosk", "kiosk-events"]
    assert chroot(provisioned, "id", "-nG", "kiosk-agent").stdout.split() == ["kiosk-agent", "kiosk-events"]
    shadow = {line.split(":")[0]: line.split(":")[1] for line in read(provisioned, "/etc/shadow").splitlines()}
    assert shadow["kiosk"].startswith("!") and shadow["kiosk-agent"].startswith("!")
    for group in ("sudo", "lpadmin", "adm", "root"):
        members = chroot(provisioned, "getent", "group", group).stdout.strip().split(":")[3]
        assert "kiosk" not in members.split(",")


def test_sudo_and_su_are_closed_to_kiosk(provisioned):
    chroot(provisioned, "visudo", "-c")
    assert "kiosk ALL = (ALL:ALL) !ALL" in read(provisioned, "/etc/sudoers.d/50-kiosk-deny")
    listing = chroot(provisioned, "sudo", "-l", "-U", "kiosk", check=False).stdout
    assert "not allowed" in listing or "n'est pas autorisé" in listing or "!ALL" in listing
    assert chroot(provisioned, "dpkg-statoverride", "--list", "/usr/bin/su").stdout.strip() == "root sudo 4750 /usr/bin/su"
    su = provisioned.root / "usr/bin/su"
    assert oct(su.stat().st_mode & 0o7777) == "0o4750"


def _enabled(system, unit):
    return chroot(system, "systemctl", "is-enabled", unit, check=False).stdout.strip()


@pytest.mark.parametrize("unit", ["kiosk-session.service", "kiosk-agent.service", "kiosk-screen.timer",
                                  "kiosk-printer.timer", "nftables.service", "cups.service",
                                  "systemd-timesyncd.service"])
def test_units_are_enabled(provisioned, unit):
    assert _enabled(provisioned, unit) == "enabled"


@pytest.mark.parametrize("unit", ["ctrl-alt-del.target", "getty@tty1.service"])
def test_units_are_masked(provisioned, unit):
    assert _enabled(provisioned, unit) == "masked"


def test_graphical_target_is_the_default(provisioned):
    assert chroot(provisioned, "systemctl", "get-default").stdout.strip() == "graphical.target"


def test_session_unit_runs_the_window_under_xinit_and_restarts(provisioned):
    unit = read(provisioned, "/etc/systemd/system/kiosk-session.service")
    assert "User=kiosk" in unit and "Restart=always" in unit
    assert "ExecStart=/usr/bin/xinit /usr/local/lib/kiosk/session -- /usr/bin/Xvfb :0" in unit
    assert "kiosk run /etc/kiosk" in read(provisioned, "/usr/local/lib/kiosk/session")
    chroot(provisioned, "systemd-analyze", "verify", "/etc/systemd/system/kiosk-session.service")


def test_xorg_configuration_forbids_vt_switch_and_zap(provisioned):
    conf = read(provisioned, "/etc/X11/xorg.conf.d/10-kiosk-lockdown.conf")
    assert re.search(r'Option\s+"DontVTSwitch"\s+"true"', conf)
    assert re.search(r'Option\s+"DontZap"\s+"true"', conf)
    logind = read(provisioned, "/etc/systemd/logind.conf.d/50-kiosk.conf")
    assert "NAutoVTs=0" in logind


def test_kernel_settings(provisioned):
    sysctl = read(provisioned, "/etc/sysctl.d/90-kiosk.conf")
    assert "kernel.sysrq = 0" in sysctl and "kernel.panic = 10" in sysctl
    assert not (provisioned.root / "etc/modprobe.d/kiosk-usb-storage.conf").exists()  # read-only, not off
    assert "--setro" in read(provisioned, "/etc/udev/rules.d/80-kiosk-usb-read-only.rules")


def test_grub_menu_is_hidden_and_protected(provisioned):
    assert "GRUB_TIMEOUT=0" in read(provisioned, "/etc/default/grub.d/50-kiosk.cfg")
    assert "password_pbkdf2 asso grub.pbkdf2.sha512." in read(provisioned, "/etc/grub.d/01_kiosk_password")
    assert "--unrestricted" in read(provisioned, "/etc/grub.d/10_linux")


def test_no_terminal_or_file_manager_is_installed(provisioned):
    alternatives = chroot(provisioned, "update-alternatives", "--list", "x-terminal-emulator", check=False)
    assert alternatives.stdout.strip() == ""
    for binary in ("xterm", "gnome-terminal", "nautilus", "thunar", "pcmanfm"):
        assert chroot(provisioned, "sh", "-c", f"command -v {binary}", check=False).returncode != 0


def test_nftables_ruleset_is_accepted_by_nft(provisioned):
    chroot(provisioned, "nft", "-c", "-f", "/etc/nftables.conf")
    rules = read(provisioned, "/etc/nftables.d/kiosk.nft")
    assert "policy drop" in rules
    assert "ip saddr { 192.168.1.0/24 } tcp dport 22 accept" in rules
    assert "tcp dport { 53, 80, 443, 631 } accept" in rules
    assert "udp dport { 53, 67, 123, 547 } accept" in rules


def test_cups_lets_kiosk_print_but_not_administer(provisioned):
    assert re.search(r"^SystemGroup root lpadmin$", read(provisioned, "/etc/cups/cups-files.conf"), re.M)
    assert re.search(r"^Browsing No$", read(provisioned, "/etc/cups/cupsd.conf"), re.M)
    queue = read(provisioned, "/usr/local/lib/kiosk/printer-queue")
    assert "uri=ipp://imprimante-mairie.local/ipp/print" in queue and "-m everywhere" in queue


def test_base_settings(provisioned):
    assert read(provisioned, "/etc/hostname").strip() == "asso-2026-0042"
    assert "LANG=fr_FR.UTF-8" in read(provisioned, "/etc/default/locale")
    assert "fr_FR.utf8" in chroot(provisioned, "locale", "-a").stdout
    assert 'XKBLAYOUT="fr"' in read(provisioned, "/etc/default/keyboard")
    assert (provisioned.root / "etc/localtime").readlink().as_posix().endswith("Europe/Paris")
    assert 'APT::Periodic::Unattended-Upgrade "1";' in read(provisioned, "/etc/apt/apt.conf.d/20auto-upgrades")
    assert "SystemMaxUse=200M" in read(provisioned, "/etc/systemd/journald.conf.d/50-kiosk.conf")


def test_the_virtualenv_imports_kiosk_and_webkit(provisioned):
    result = chroot(provisioned, "/opt/kiosk/venv/bin/python", "-c",
                    "import kiosk, gi, webview, psutil; gi.require_version('WebKit2', '4.1'); "
                    "from gi.repository import WebKit2; print(kiosk.__version__)")
    import kiosk
    assert result.stdout.strip() == kiosk.__version__
    freeze = chroot(provisioned, "/opt/kiosk/venv/bin/pip", "freeze").stdout
    assert f"mairie-kiosk=={kiosk.__version__}" in freeze.lower().replace("_", "-")


def test_kiosk_configuration_is_accepted_by_the_kiosk(provisioned):
    result = chroot(provisioned, "/opt/kiosk/venv/bin/kiosk", "check-config", "/etc/kiosk")
    assert "Configuration valide : Bagnères-de-Luchon" in result.stdout
    site = yaml.safe_load(read(provisioned, "/etc/kiosk/kiosk.yaml"))
    assert site["catalog"] == "services.yaml"
    assert site["fleet"] == {"url": "https://parc.asso-exemple.fr"}
    assert site["commune"]["insee"] == "31042"


def test_agent_settings_and_enrolment_code(provisioned):
    settings = yaml.safe_load(read(provisioned, "/etc/kiosk/agent.yaml"))
    assert settings == {"fleet_url": "https://parc.asso-exemple.fr", "asset_tag": "ASSO-2026-0042",
                        "commune_insee": "31042", "enrolment_code_file": "/etc/kiosk/enrolment-code",
                        "state_dir": "/var/lib/kiosk-agent", "events_dir": "/var/lib/kiosk/events"}
    code = provisioned.root / "etc/kiosk/enrolment-code"
    assert code.read_text().strip() == "K7Q2-M9XD-4F3R"
    assert oct(code.stat().st_mode & 0o777) == "0o640"
    assert chroot(provisioned, "stat", "-c", "%U:%G", "/etc/kiosk/enrolment-code").stdout.strip() == "root:kiosk-agent"
    assert "K7Q2-M9XD-4F3R" not in provisioned.first.log


def test_state_and_events_directories(provisioned):
    events = chroot(provisioned, "stat", "-c", "%U:%G %a", "/var/lib/kiosk/events").stdout.strip()
    assert events == "kiosk:kiosk-events 2770"
    state = chroot(provisioned, "stat", "-c", "%U %a", "/var/lib/kiosk").stdout.strip()
    assert state == "kiosk 711"
    unit = read(provisioned, "/etc/systemd/system/kiosk-agent.service")
    for directive in ("NoNewPrivileges=yes", "ProtectSystem=strict", "ReadWritePaths=/var/lib/kiosk/events",
                      "User=kiosk-agent", "Restart=always",
                      "ExecStart=/opt/kiosk/venv/bin/kiosk agent --settings /etc/kiosk/agent.yaml"):
        assert directive in unit
