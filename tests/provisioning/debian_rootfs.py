"""Debian root filesystems (12 "bookworm" and 13 "trixie") for the playbook tests, built once and
cached outside the repository.

Two flavours: the kiosk's (``base_rootfs()``, site.yml's roles) and the fleet server's
(``server_rootfs()``, the fleet_server role's packages), each cached under its own name.

The cache lives in /var/cache/mairie-kiosk-tests/ (or $KIOSK_TEST_ROOTFS_CACHE), one base per release,
keyed by a hash of the package list: the roles' own package lists plus what a standard Debian
installation has.
Downloaded packages are kept too, so a rebuild after a change of the list takes a minute or two.
Each test then works on an overlay of that read-only base.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
ROLES = REPO / "playbooks" / "roles"
CACHE = Path(os.environ.get("KIOSK_TEST_ROOTFS_CACHE", "/var/cache/mairie-kiosk-tests"))
# The releases the roles support, newest first: new installs get Debian 13, Debian 12 stays supported.
RELEASES = {"trixie": "13", "bookworm": "12"}
MIRROR = os.environ.get("KIOSK_TEST_DEBIAN_MIRROR", "http://deb.debian.org/debian")
BUILDER_VERSION = "2"

# What a freshly installed Debian (standard system, SSH server) has that matters to the roles.
STANDARD_PACKAGES = [
    "systemd", "systemd-sysv", "dbus", "udev", "libpam-systemd", "python3", "python3-apt", "sudo",
    "openssh-server", "locales", "keyboard-configuration", "tzdata", "grub-common", "procps", "kmod",
    "iproute2", "ca-certificates",
]
# What the tests add through role variables (a virtual X server instead of Xorg).
TEST_PACKAGES = ["xvfb"]
ROLE_PACKAGE_VARIABLES = {
    "base": "base__packages", "kiosk": "kiosk__packages", "printing": "printing__packages",
    "firewall": "firewall__packages",
}


def role_packages() -> list[str]:
    packages: list[str] = []
    for role, variable in ROLE_PACKAGE_VARIABLES.items():
        defaults = yaml.safe_load((ROLES / role / "defaults" / "main.yml").read_text(encoding="utf-8"))
        packages.extend(defaults[variable])
    return packages


def package_list() -> list[str]:
    return sorted(set(STANDARD_PACKAGES + role_packages() + TEST_PACKAGES))


def cache_key(suite: str, packages: list[str]) -> str:
    text = "\n".join([BUILDER_VERSION, suite, MIRROR, *packages])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def server_package_list() -> list[str]:
    """What the fleet server's playbook installs (both database flavours), on a standard system."""
    defaults = yaml.safe_load((ROLES / "fleet_server" / "defaults" / "main.yml").read_text(encoding="utf-8"))
    return sorted(set(STANDARD_PACKAGES + defaults["fleet_server__packages"]
                      + defaults["fleet_server__postgresql_packages"]))


def base_rootfs(suite: str = "bookworm") -> Path:
    """The cached kiosk base of ``suite`` for the current package list, built if missing (a few minutes once)."""
    return cached_rootfs("rootfs", package_list(), suite)


def server_rootfs(suite: str = "bookworm") -> Path:
    """The cached base for the fleet server's playbook (nginx, PostgreSQL…), built if missing."""
    return cached_rootfs("server-rootfs", server_package_list(), suite)


def cached_rootfs(flavour: str, packages: list[str], suite: str) -> Path:
    if suite not in RELEASES:
        raise ValueError(f"unsupported Debian release {suite!r}: one of {', '.join(RELEASES)}")
    target = CACHE / f"{flavour}-{suite}-{cache_key(suite, packages)}"
    if (target / ".complete").exists():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    building = target.with_name(target.name + ".building")
    if building.exists():
        shutil.rmtree(building)
    debs = CACHE / f"debs-{suite}"
    debs.mkdir(exist_ok=True)
    _run(["debootstrap", "--variant=minbase", f"--cache-dir={debs}", f"--include={','.join(STANDARD_PACKAGES)}",
          suite, str(building), MIRROR])
    extra = [package for package in packages if package not in STANDARD_PACKAGES]
    with _chroot_mounts(building, debs):
        policy = building / "usr/sbin/policy-rc.d"
        policy.write_text("#!/bin/sh\nexit 101\n")
        policy.chmod(0o755)
        env = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"}
        _run(["chroot", str(building), "apt-get", "update", "-qq"], env=env)
        _run(["chroot", str(building), "apt-get", "install", "-y", "-qq", "--no-install-recommends", *extra], env=env)
        policy.unlink()
    # Fresh package lists, as on a machine installed today: the roles' apt tasks then use them as is.
    (building / ".complete").write_text("\n".join(packages) + "\n")
    building.rename(target)
    for old in CACHE.glob(f"{flavour}-{suite}-*"):
        if old != target and not old.name.endswith(".building"):
            shutil.rmtree(old, ignore_errors=True)
    return target


@contextmanager
def _chroot_mounts(root: Path, debs: Path):
    archives = root / "var/cache/apt/archives"
    archives.mkdir(parents=True, exist_ok=True)
    mounts = [(["mount", "-t", "proc", "proc", str(root / "proc")], root / "proc"),
              (["mount", "--bind", str(debs), str(archives)], archives)]
    shutil.copy("/etc/resolv.conf", root / "etc/resolv.conf")
    done = []
    try:
        for command, point in mounts:
            _run(command)
            done.append(point)
        yield
    finally:
        for point in reversed(done):
            subprocess.run(["umount", "-l", str(point)], check=False)


def _run(command: list[str], env: dict | None = None) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:4])}… failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] == ["--server"]:
        print(server_rootfs(*sys.argv[2:3]))
    else:
        for name in sys.argv[1:] or list(RELEASES):
            print(base_rootfs(name))
