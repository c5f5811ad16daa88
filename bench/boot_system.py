"""The systems bench/boot.py boots: the kiosk's root filesystem as the playbook tests provision it,
plus what the bench adds for one boot (the heavy page and its server, the connectivity check on
loopback, and for the baseline the session replaced by Chromium).

Everything added is written into the boot's own overlay (its upper directory), never into the
provisioned layer, so every boot starts from the same system.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "provisioning"))

import debian_rootfs  # noqa: E402
from bench_layers import bench_layer  # noqa: E402
from provision_runs import run_provision, write_inventory  # noqa: E402

# What the playbook tests give the roles (a virtual X server instead of Xorg): the same here.
TEST_EXTRA_VARS = {
    "kiosk__x_server": "/usr/bin/Xvfb :0 -screen 0 1280x1024x24 -nolisten tcp",
    "kiosk__session_tty": "",
    "kiosk__extra_packages": ["xvfb"],
    "kiosk__restart_delay_s": 1,
}
SCREEN = (1280, 1024)
HEAVY_PORT = 8765
HEAVY_TILE = "bench-lourd"
HEAVY_DIR = "/srv/bench-heavy"
CHROMIUM_HOME_PORT = 8080
CHROMIUM_DEBUG_PORT = 9222
PROBE_ANSWER = "NetworkManager is online"


def provision(suite: str, workspace: Path) -> Path:
    """Provision the example inventory's machine on an overlay of ``suite``'s base, as the playbook
    tests do (one run); return the overlay's upper directory: the provisioned layer."""
    from bench_layers import _mount_overlay  # noqa: PLC0415 - the same mount as the boots'

    base = debian_rootfs.base_rootfs(suite)
    upper, work, root = workspace / "upper", workspace / "work", workspace / "root"
    for path in (upper, work, root):
        path.mkdir(parents=True)
    _mount_overlay([base], upper, work, root)
    try:
        inventory = write_inventory(workspace / "inventory", str(root))
        extra = workspace / "test-vars.yml"
        extra.write_text(yaml.safe_dump(TEST_EXTRA_VARS), encoding="utf-8")
        result = run_provision("run", str(inventory), "-e", str(extra), runs_dir=workspace / "runs")
        if result.returncode != 0:
            raise RuntimeError(f"provision run failed ({result.returncode}):\n{result.output[-4000:]}")
    finally:
        subprocess.run(["umount", "-l", str(root)], check=False)
    shutil.rmtree(work, ignore_errors=True)
    return upper


def layers(suite: str, provisioned_upper: Path) -> list[Path]:
    """The read-only layers of a boot, topmost first."""
    return [provisioned_upper, bench_layer(suite), debian_rootfs.base_rootfs(suite)]


def prepare_boot(root: Path, variant: str, heavy_site: Path) -> None:
    """Add the bench's pieces to a fresh boot's root (its overlay): a tile opening the heavy page,
    the loopback server of that page (which also answers the connectivity check: the home is the
    "online" one, nothing leaves the container) and, for ``chromium``, the session's one X client
    replaced by Chromium in --kiosk mode on the shell's home (``kiosk serve``)."""
    # A PC that has booted before (the secretary's morning boot): ldconfig and the journal catalog
    # are up to date (ConditionNeedsUpdate), as systemd-update-done leaves them after a first boot.
    usr_ns = (root / "usr").stat().st_mtime_ns
    for marker in (root / "etc/.updated", root / "var/.updated"):
        marker.write_text(f"TIMESTAMP_NSEC={usr_ns}\n")
        os.utime(marker, ns=(usr_ns, usr_ns))
    config = root / "etc/kiosk/kiosk.yaml"
    site = yaml.safe_load(config.read_text(encoding="utf-8"))
    site["tiles"].insert(0, {
        "id": HEAVY_TILE, "label": "Service lourd", "description": "Une grande application de démonstration.",
        "category": "commune", "url": f"http://127.0.0.1:{HEAVY_PORT}/", "pictogram": "information.svg",
        "pictogram_alt": "Le symbole « information »", "hosts": ["127.0.0.1"]})
    config.write_text(yaml.safe_dump(site, allow_unicode=True, sort_keys=False), encoding="utf-8")

    target = root / HEAVY_DIR.lstrip("/")
    shutil.copytree(heavy_site, target)
    (target / "nm").write_text(PROBE_ANSWER + "\n")
    units = root / "etc/systemd/system"
    (units / "bench-heavy.service").write_text(
        "[Unit]\nDescription=bench: the heavy page and the connectivity check, on loopback\n\n"
        f"[Service]\nExecStart=/usr/bin/python3 -m http.server {HEAVY_PORT} --bind 127.0.0.1 --directory {HEAVY_DIR}\n"
        "DynamicUser=yes\n\n[Install]\nWantedBy=multi-user.target\n")
    wants = units / "multi-user.target.wants"
    wants.mkdir(exist_ok=True)
    (wants / "bench-heavy.service").symlink_to("../bench-heavy.service")
    # The PC's memory as the kiosk reads it (bench/boot.py writes /etc/bench-meminfo: 2 GB).
    (units / "bench-meminfo.service").write_text(
        "[Unit]\nDescription=bench: a 2 GB /proc/meminfo\nDefaultDependencies=no\nBefore=sysinit.target\n"
        "ConditionPathExists=/etc/bench-meminfo\n\n[Service]\nType=oneshot\nRemainAfterExit=yes\n"
        "ExecStart=/usr/bin/mount --bind /etc/bench-meminfo /proc/meminfo\n\n[Install]\nWantedBy=sysinit.target\n")
    sysinit = units / "sysinit.target.wants"
    sysinit.mkdir(exist_ok=True)
    (sysinit / "bench-meminfo.service").symlink_to("../bench-meminfo.service")
    dropin = units / "kiosk-session.service.d"
    dropin.mkdir(exist_ok=True)
    (dropin / "bench.conf").write_text(
        "[Service]\n"
        "Environment=KIOSK_SHELL_PROBE_HOST=127.0.0.1\n"
        f"Environment=KIOSK_SHELL_PROBE_PORT={HEAVY_PORT}\n")
    if variant == "chromium":
        session = root / "usr/local/lib/kiosk/session"
        session.unlink()  # a file of the provisioned layer: replaced in this boot's overlay only
        session.write_text(
            "#!/bin/sh\n# bench/boot.py's baseline: the same shell's home in Debian's Chromium --kiosk.\n"
            f"/opt/kiosk/venv/bin/kiosk serve /etc/kiosk --port {CHROMIUM_HOME_PORT} &\n"
            "# The window serves its shell before loading it; Chromium needs the server up first too.\n"
            "until /usr/bin/python3 -c \"import socket; socket.create_connection(('127.0.0.1', "
            f"{CHROMIUM_HOME_PORT}), 1).close()\" 2>/dev/null; do sleep 0.1; done\n"
            f"exec /usr/bin/chromium --kiosk --no-first-run --noerrdialogs --disable-infobars "
            f"--window-position=0,0 --window-size={SCREEN[0]},{SCREEN[1]} "
            f"--remote-debugging-address=127.0.0.1 --remote-debugging-port={CHROMIUM_DEBUG_PORT} "
            f"--user-data-dir=/run/kiosk-session/chromium http://127.0.0.1:{CHROMIUM_HOME_PORT}/\n")
        session.chmod(0o755)


if __name__ == "__main__":
    # Provision once and print the layer, for bench/boot.py --provisioned (the caller removes it).
    workspace = Path(tempfile.mkdtemp(prefix="kiosk-boot-provisioned-", dir=sys.argv[2] if len(sys.argv) > 2 else None))
    print(provision(sys.argv[1], workspace))
