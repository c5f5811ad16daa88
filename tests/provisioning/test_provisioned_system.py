"""site.yml applied by `provision run` to real Debian 13 and 12 root filesystems (chroot connection):
the second run changes nothing, and the result is what the roles promise."""

from __future__ import annotations

import re
import subprocess

import pytest
import yaml

from provision_runs import INTERRUPTED_PACKAGE

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


# What the inventory's `association.fleet_public_key` brings to a kiosk (issue 12): on a kiosk provisioned
# before central management, the one more `provision run` changes these tasks and nothing else (the
# handlers that restart the session and the agent only run on a live machine).
CENTRAL_MANAGEMENT_TASKS = [
    "kiosk : Installer la clé publique du parc, qui vérifie les paquets de configuration.",
    "kiosk : Créer le dossier où la session choisit la version du logiciel en service (lu par l'agent).",
    "kiosk : Installer le client X de la session (la fenêtre du kiosque).",
    "enrolment : Écrire les réglages de l'agent.",
]


def upgraded(provisioned) -> bool:
    """The newest release's first run was a kiosk provisioned before central management (conftest.py)."""
    return provisioned.before_central_management is not None


def test_the_first_run_succeeds(provisioned):
    assert provisioned.first.returncode == 0, provisioned.first.output[-5000:]
    assert recap(provisioned.first, provisioned.asset_tag)["failed"] == 0
    assert recap(provisioned.first, provisioned.asset_tag)["changed"] > 20
    # The parts of central management ran: in the first run with the fleet's public key in the inventory,
    # in the second on the newest release (its first inventory has none, like a kiosk provisioned before).
    assert "agent : Créer le dossier des versions du logiciel, que l'agent installe et que la session exécute." \
        in provisioned.first.changed_tasks()
    changed = (provisioned.second if upgraded(provisioned) else provisioned.first).changed_tasks()
    for task in CENTRAL_MANAGEMENT_TASKS[:2]:
        assert task in changed, changed


def test_the_first_run_finishes_an_installation_cut_by_a_power_loss(provisioned):
    assert "base : Terminer l'installation interrompue avant d'installer quoi que ce soit." in provisioned.first.changed_tasks()
    status = chroot(provisioned, "dpkg-query", "-W", "-f=${Status}", INTERRUPTED_PACKAGE).stdout
    assert status == "install ok installed"
    assert chroot(provisioned, "dpkg", "--audit").stdout.strip() == ""


def test_the_second_run_changes_nothing(provisioned):
    """…but, on the newest release, what the fleet's public key brings to a kiosk provisioned before it
    (next test); after that run, `provision run --check` finds nothing left to change
    (test_provision_command.py::test_check_mode_with_limit_changes_nothing_and_only_touches_the_named_host)."""
    assert provisioned.second.returncode == 0, provisioned.second.output[-5000:]
    counts = recap(provisioned.second, provisioned.asset_tag)
    expected = CENTRAL_MANAGEMENT_TASKS if upgraded(provisioned) else []
    assert sorted(provisioned.second.changed_tasks()) == sorted(expected)
    assert counts["changed"] == len(expected)
    assert counts["failed"] == 0 and counts["unreachable"] == 0


@pytest.mark.newest_release_only
def test_one_more_run_brings_central_management_to_a_kiosk_provisioned_before_it(provisioned):
    """Issue 12: a kiosk provisioned before central management (no fleet key in its inventory) gets it by
    one more `provision run` with the key: the key (root's, 0644), the agent's settings naming it, the
    session started by the launcher with the configuration bundles, the release switch; nothing else
    changes (previous test). The booted tests then run on this very machine: the agent verifies a
    bundle signed by the fleet's private key (test_booted_system.py), the launcher is in the session's
    process chain and the release directories are as each user must see them."""
    before = provisioned.before_central_management
    assert provisioned.first.returncode == 0, provisioned.first.output[-5000:]
    assert before["/etc/kiosk/fleet-bundles.pub"] is None and before["/var/lib/kiosk/release"] is None
    assert "bundle_public_key" not in before["/etc/kiosk/agent.yaml"]
    assert "--bundles" not in before["/usr/local/lib/kiosk/session"]
    assert "kiosk.updates.launcher" not in before["/usr/local/lib/kiosk/session"]

    assert provisioned.second.returncode == 0, provisioned.second.output[-5000:]
    stat = ["stat", "-c", "%U:%G %a"]
    assert chroot(provisioned, *stat, "/etc/kiosk/fleet-bundles.pub").stdout.strip() == "root:root 644"
    assert chroot(provisioned, *stat, "/var/lib/kiosk/release").stdout.strip() == "kiosk:kiosk-events 2750"
    settings = yaml.safe_load(read(provisioned, "/etc/kiosk/agent.yaml"))
    assert settings["bundle_public_key"] == "/etc/kiosk/fleet-bundles.pub"
    session = read(provisioned, "/usr/local/lib/kiosk/session")
    assert "-m kiosk.updates.launcher" in session and "--bundles /var/lib/kiosk/bundles" in session


def test_users_and_groups(provisioned):
    kiosk = chroot(provisioned, "getent", "passwd", "kiosk").stdout.split(":")
    agent = chroot(provisioned, "getent", "passwd", "kiosk-agent").stdout.split(":")
    assert kiosk[6].strip() == agent[6].strip() == "/usr/sbin/nologin"
    assert int(kiosk[2]) < 1000 and int(agent[2]) < 1000
    assert chroot(provisioned, "id", "-nG", "kiosk").stdout.split() == ["kiosk", "kiosk-events"]
    assert chroot(provisioned, "id", "-nG", "kiosk-agent").stdout.split() == ["kiosk-agent", "kiosk-events"]
    shadow = {line.split(":")[0]: line.split(":")[1] for line in read(provisioned, "/etc/shadow").splitlines()}
    assert shadow["kiosk"].startswith("!") and shadow["kiosk-agent"].startswith("!")
    # The agent reads the journal (remote diagnostic) through its unit's SupplementaryGroups only: neither
    # account is a member of systemd-journal (test_booted_system.py checks the running processes).
    for group in ("sudo", "lpadmin", "adm", "root", "systemd-journal"):
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
                                  "systemd-timesyncd.service", "ssh.service", "kiosk-fleet-address.timer",
                                  "kiosk-fleet-address.service"])
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
    assert unit.split("ExecStart=", 1)[1].splitlines()[0].endswith("-auth /run/kiosk-session/Xauthority")
    assert "Environment=XAUTHORITY=/run/kiosk-session/Xauthority" in unit
    assert "ExecStartPre=/usr/local/lib/kiosk/session-cookie" in unit
    session = read(provisioned, "/usr/local/lib/kiosk/session")
    # With the fleet's key, the session starts the launcher (kiosk software updates), from the installed version.
    assert ("exec /opt/kiosk/venv/bin/python -m kiosk.updates.launcher --releases-dir /opt/kiosk/releases "
            "--switch-dir /var/lib/kiosk/release --installed /opt/kiosk/venv ") in session
    assert session.rstrip().endswith(" -- run /etc/kiosk --bundles /var/lib/kiosk/bundles"), session
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


def test_grub_menu_is_hidden_protected_repairs_disks_and_offers_a_protected_rescue(provisioned):
    settings = read(provisioned, "/etc/default/grub.d/50-kiosk.cfg")
    assert "GRUB_TIMEOUT=1" in settings and "GRUB_TIMEOUT_STYLE=hidden" in settings
    assert 'GRUB_CMDLINE_LINUX="${GRUB_CMDLINE_LINUX} fsck.repair=yes"' in settings
    assert "GRUB_DISABLE_RECOVERY=false" in settings
    # What update-grub will read: Debian's defaults, then the drop-in.
    sourced = chroot(provisioned, "sh", "-c", "[ -f /etc/default/grub ] && . /etc/default/grub; for f in /etc/default/grub.d/*.cfg; do . $f; done; "
                     "echo \"$GRUB_CMDLINE_LINUX|$GRUB_DISABLE_RECOVERY\"").stdout.strip()
    assert sourced.endswith("fsck.repair=yes|false"), sourced
    assert "password_pbkdf2 asso grub.pbkdf2.sha512." in read(provisioned, "/etc/grub.d/01_kiosk_password")


def test_grub_vendor_script_is_diverted_not_edited(provisioned):
    diverted = "/usr/local/lib/kiosk/grub/10_linux.debian"
    diversion = chroot(provisioned, "dpkg-divert", "--list", "/etc/grub.d/10_linux").stdout
    assert f"local diversion of /etc/grub.d/10_linux to {diverted}" in diversion
    vendor = read(provisioned, diverted)
    assert "--unrestricted" not in vendor and 'CLASS="--class gnu-linux --class gnu --class os"' in vendor
    # dpkg sees the vendor file unmodified: upgrades of grub never stop on a changed conffile.
    owner = chroot(provisioned, "dpkg-query", "-S", "/etc/grub.d/10_linux").stdout.strip().splitlines()[-1]
    package = owner.split(":")[0].strip()
    assert package == "grub-common", owner
    verify = chroot(provisioned, "dpkg", "--verify", package, check=False).stdout
    assert "10_linux" not in verify, verify
    wrapper = read(provisioned, "/etc/grub.d/10_linux")
    assert diverted in wrapper and "grub-unrestrict" in wrapper
    assert (provisioned.root / "etc/grub.d/10_linux").stat().st_mode & 0o111


def test_grub_filter_unrestricts_normal_entries_and_keeps_recovery_protected(provisioned):
    """The filter applied to entries printed by Debian's own 10_linux (diverted), run with the
    variables grub-mkconfig gives it and a fake kernel: what update-grub would write on a real PC."""
    root = provisioned.root
    (root / "boot").mkdir(exist_ok=True)
    kernel, initrd = root / "boot/vmlinuz-6.1.0-99-amd64", root / "boot/initrd.img-6.1.0-99-amd64"
    kernel.write_bytes(b"")
    initrd.write_bytes(b"")
    script = ("export grub_probe=/bin/true grub_file=/bin/false GRUB_DEVICE=/dev/sda1 GRUB_DEVICE_UUID=1234 "
              "GRUB_FS=ext2 GRUB_DISABLE_SUBMENU=n GRUB_DISABLE_RECOVERY=false GRUB_CMDLINE_LINUX='fsck.repair=yes' "
              "GRUB_DISTRIBUTOR=Debian pkgdatadir=/usr/share/grub; /etc/grub.d/10_linux")
    try:
        result = subprocess.run(["chroot", str(root), "sh", "-c", script], capture_output=True, text=True, check=False)
    finally:
        kernel.unlink()
        initrd.unlink()
    lines = result.stdout.splitlines()
    entries = [line.strip() for line in lines if line.strip().startswith(("menuentry ", "submenu "))]
    assert len(entries) >= 4, result.stdout + result.stderr
    recovery = [line for line in entries if "-recovery-" in line]
    normal = [line for line in entries if "-recovery-" not in line]
    assert recovery and all("--unrestricted" not in line for line in recovery)
    assert normal and all("--unrestricted $menuentry_id_option" in line for line in normal)
    kernels = [line.strip() for line in lines if line.strip().startswith("linux")]
    rescue = [line for line in kernels if " single " in f"{line} "]
    assert rescue and all(line.endswith("systemd.setenv=SYSTEMD_SULOGIN_FORCE=1") for line in rescue)
    assert all("SYSTEMD_SULOGIN_FORCE" not in line for line in kernels if line not in rescue)


def test_ssh_accepts_only_the_association_keys(provisioned):
    chroot(provisioned, "mkdir", "-p", "/run/sshd")
    effective = chroot(provisioned, "/usr/sbin/sshd", "-T", "-C", "user=benevole,host=x,addr=192.168.1.9").stdout.splitlines()
    for line in ("passwordauthentication no", "kbdinteractiveauthentication no", "permitrootlogin no",
                 "authenticationmethods publickey", "authorizedkeysfile /etc/ssh/authorized_keys/%u",
                 "allowusers benevole", "x11forwarding no"):
        assert line in effective, line
    keys = read(provisioned, "/etc/ssh/authorized_keys/benevole")
    example = yaml.safe_load(provisioned.inventory.read_text(encoding="utf-8"))["association"]["ssh_keys"]
    assert [line for line in keys.splitlines() if not line.startswith("#")] == example
    assert chroot(provisioned, "stat", "-c", "%U %a", "/etc/ssh/authorized_keys/benevole").stdout.strip() == "root 644"
    assert "sudo" in chroot(provisioned, "id", "-nG", "benevole").stdout.split()


def test_ctrl_alt_del_burst_does_nothing(provisioned):
    assert "CtrlAltDelBurstAction=none" in read(provisioned, "/etc/systemd/system.conf.d/50-kiosk.conf")


def test_zram_only_on_machines_with_4_gb_or_less(provisioned):
    conf = read(provisioned, "/etc/systemd/zram-generator.conf")
    assert "host-memory-limit = 4096" in conf and "[zram0]" in conf
    assert (provisioned.root / "usr/lib/systemd/system-generators/zram-generator").exists()


def test_usb_sticks_are_mounted_read_only_without_programs(provisioned):
    rule = read(provisioned, "/etc/udev/rules.d/81-kiosk-usb-mount.rules")
    assert 'ENV{ID_BUS}=="usb"' in rule and 'ENV{ID_FS_TYPE}=="vfat|exfat"' in rule
    assert "systemd-mount" in rule and "--options=ro,nosuid,nodev,noexec," in rule
    assert "/media/usb-%k" in rule


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
    assert "ip daddr @fleet_v4 tcp dport 443 accept" in rules and "ip6 daddr @fleet_v6 tcp dport 443 accept" in rules
    assert "host=parc.asso-exemple.fr" in read(provisioned, "/usr/local/lib/kiosk/fleet-address")


def test_cups_lets_kiosk_print_but_not_administer(provisioned):
    assert re.search(r"^SystemGroup root lpadmin$", read(provisioned, "/etc/cups/cups-files.conf"), re.M)
    cupsd = read(provisioned, "/etc/cups/cupsd.conf")
    assert re.search(r"^Browsing No$", cupsd, re.M)
    assert re.search(r"^PreserveJobFiles No$", cupsd, re.M) and re.search(r"^PreserveJobHistory No$", cupsd, re.M)
    chroot(provisioned, "cupsd", "-t")
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
                        "state_dir": "/var/lib/kiosk-agent", "events_dir": "/var/lib/kiosk/events",
                        "bundle_public_key": "/etc/kiosk/fleet-bundles.pub", "bundle_dir": "/var/lib/kiosk/bundles",
                        "config_dir": "/etc/kiosk", "releases_dir": "/opt/kiosk/releases",
                        "release_switch_dir": "/var/lib/kiosk/release"}
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


def test_fleet_public_key_and_release_directories(provisioned):
    """The inventory's fleet key, installed where the agent reads it (root's, world-readable: a public key);
    the releases the agent installs and the session runs; the switch the session keeps and the agent reads."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    expected = yaml.safe_load(provisioned.inventory.read_text(encoding="utf-8"))["association"]["fleet_public_key"]
    installed = read(provisioned, "/etc/kiosk/fleet-bundles.pub")
    assert installed.strip() == expected.strip()
    assert isinstance(load_pem_public_key(installed.encode()), Ed25519PublicKey)
    stat = ["stat", "-c", "%U:%G %a"]
    assert chroot(provisioned, *stat, "/etc/kiosk/fleet-bundles.pub").stdout.strip() == "root:root 644"
    assert chroot(provisioned, *stat, "/etc/kiosk").stdout.strip() == "root:root 755"
    assert chroot(provisioned, *stat, "/opt/kiosk/releases").stdout.strip() == "kiosk-agent:kiosk-events 755"
    assert chroot(provisioned, *stat, "/var/lib/kiosk/release").stdout.strip() == "kiosk:kiosk-events 2750"
    assert chroot(provisioned, *stat, "/var/lib/kiosk/bundles").stdout.strip() == "kiosk:kiosk-events 2770"
    unit = read(provisioned, "/etc/systemd/system/kiosk-agent.service")
    assert "ReadWritePaths=-/opt/kiosk/releases" in unit and "ReadWritePaths=-/var/lib/kiosk/bundles" in unit
    assert "SupplementaryGroups=kiosk-events systemd-journal" in unit
