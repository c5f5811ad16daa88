"""Debian root filesystems (12 "bookworm" and 13 "trixie") for the playbook tests, built once and
cached outside the repository.

Two flavours: the kiosk's (``base_rootfs()``, site.yml's roles) and the fleet server's
(``server_rootfs()``, the fleet_server role's packages), each cached under its own name.

The cache lives in /var/cache/mairie-kiosk-tests/ (or $KIOSK_TEST_ROOTFS_CACHE), one base per release,
keyed by a hash of the package list: the roles' own package lists plus what a standard Debian
installation has.
Built with mmdebstrap (apt resolves and downloads the whole list at once; dpkg skips fsync while
building). Downloaded packages are kept too (debs-<release>/), so a rebuild after a change of the list
takes a minute or two. A lock per root filesystem lets `./dev test` build them in the background while
the other tests run: a test that needs one waits for it. Each test then works on an overlay of that
read-only base.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
ROLES = REPO / "playbooks" / "roles"
CACHE = Path(os.environ.get("KIOSK_TEST_ROOTFS_CACHE", "/var/cache/mairie-kiosk-tests"))
# The releases the roles support, newest first: new installs get Debian 13, Debian 12 stays supported.
RELEASES = {"trixie": "13", "bookworm": "12"}
MIRROR = os.environ.get("KIOSK_TEST_DEBIAN_MIRROR", "http://deb.debian.org/debian")
BUILDER_VERSION = "3"

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


# The release whose fleet server is also provisioned with PostgreSQL (tests/provisioning/
# test_fleet_server_live_postgresql.py); the others are provisioned with SQLite only.
POSTGRESQL_RELEASE = next(iter(RELEASES))


def server_package_list(suite: str = POSTGRESQL_RELEASE) -> list[str]:
    """What the fleet server's playbook installs on a standard system: PostgreSQL's packages only on the
    release whose tests provision it with PostgreSQL."""
    defaults = yaml.safe_load((ROLES / "fleet_server" / "defaults" / "main.yml").read_text(encoding="utf-8"))
    postgresql = defaults["fleet_server__postgresql_packages"] if suite == POSTGRESQL_RELEASE else []
    return sorted(set(STANDARD_PACKAGES + defaults["fleet_server__packages"] + postgresql))


def base_rootfs(suite: str = "bookworm") -> Path:
    """The cached kiosk base of ``suite`` for the current package list, built if missing (a few minutes once)."""
    return cached_rootfs("rootfs", package_list(), suite)


def server_rootfs(suite: str = "bookworm") -> Path:
    """The cached base for the fleet server's playbook (nginx, PostgreSQL…), built if missing."""
    return cached_rootfs("server-rootfs", server_package_list(suite), suite)


def cached_rootfs(flavour: str, packages: list[str], suite: str) -> Path:
    if suite not in RELEASES:
        raise ValueError(f"unsupported Debian release {suite!r}: one of {', '.join(RELEASES)}")
    target = CACHE / f"{flavour}-{suite}-{cache_key(suite, packages)}"
    if (target / ".complete").exists():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    # One build at a time per root filesystem: a test that needs one the background builder of
    # `./dev test` is making waits for it here. Builds of two flavours of a release may run together:
    # they share the release's downloaded packages through hard links, made and added atomically.
    with _exclusive(CACHE / f".build-{flavour}-{suite}.lock"):
        if not (target / ".complete").exists():
            _build(flavour, packages, suite, target)
    return target


def _build(flavour: str, packages: list[str], suite: str, target: Path) -> None:
    building = target.with_name(target.name + ".building")
    if building.exists():
        _unmount_below(building)  # an interrupted build may have left /proc, /sys… mounted there
        shutil.rmtree(building)
    debs = CACHE / f"debs-{suite}"
    debs.mkdir(exist_ok=True)
    started = time.monotonic()
    # mmdebstrap: one apt resolution for the whole list, parallel downloads, dpkg without fsync while
    # building only. What the result keeps is what debootstrap and the installer give: merged /usr with
    # usr-is-merged, fresh package lists (the roles' apt tasks use them as is), a machine-id, and no
    # trace of the build's own apt and dpkg settings.
    _run(["mmdebstrap", "--variant=minbase", "--mode=root", f"--include={','.join(packages)}",
          "--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr",
          "--dpkgopt=force-unsafe-io", "--aptopt=Acquire::Retries \"3\"",
          "--skip=cleanup/apt/lists", "--skip=cleanup/reproducible", "--skip=essential/unlink",
          "--customize-hook=chroot \"$1\" systemd-machine-id-setup",
          "--customize-hook=rm -f \"$1\"/etc/apt/apt.conf.d/99mmdebstrap \"$1\"/etc/dpkg/dpkg.cfg.d/99mmdebstrap",
          # The downloaded packages are shared by every build of the release (hard links, same disk).
          f"--setup-hook=mkdir -p \"$1\"/var/cache/apt/archives"
          f" && find {debs} -maxdepth 1 -name '*.deb' -exec ln -t \"$1\"/var/cache/apt/archives {{}} +",
          f"--customize-hook=find \"$1\"/var/cache/apt/archives -maxdepth 1 -name '*.deb' -exec cp -aln -t {debs} {{}} +",
          suite, str(building), MIRROR])
    (building / ".complete").write_text("\n".join(packages) + "\n")
    building.rename(target)
    _log(f"{target.name}: built in {time.monotonic() - started:.0f} s")
    for old in CACHE.glob(f"{flavour}-{suite}-*"):
        if old != target and not old.name.endswith(".building"):
            shutil.rmtree(old, ignore_errors=True)


def _unmount_below(directory: Path) -> None:
    prefix = str(directory.resolve()) + "/"
    points = [line.split()[1] for line in Path("/proc/self/mounts").read_text().splitlines()]
    for point in sorted((p for p in points if p.startswith(prefix)), key=len, reverse=True):
        subprocess.run(["umount", "-l", point], check=False)


@contextmanager
def _exclusive(lock_path: Path):
    with open(lock_path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextmanager
def _chroot_mounts(root: Path, debs: Path):
    """/proc and the release's package cache mounted in ``root`` for apt-get run through chroot
    (used by layers derived from a base, e.g. tests/provisioning/bench_layers.py)."""
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


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _run(command: list[str], env: dict | None = None) -> None:
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:4])}… failed ({result.returncode}):\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")


def build_all(niceness: int = 10) -> int:
    """Build every root filesystem the system tests use (``./dev test`` runs this in the background while
    the other tests run), in the order the tests need them, each after the one it shares most downloads
    with (a build adds its packages to debs-<release>/ when it ends; two builds of a release at once
    would download the same packages twice):

    - the kiosk's of the newest release first, alone and at the normal priority: the kiosk's system
      tests (the longest chain of the suite) wait for it; everything after it niced (``niceness``, Linux
      threads have their own), so as not to slow the tests that run meanwhile;
    - then, side by side, the kiosk's of the older release (its tests come after the newest's) and, for
      the newest, the boot bench's layer (Chromium, over the kiosk's base: its test is the first once the
      machine is provisioned) and the fleet server's (its process runs ordinary modules first);
    - the fleet server's of the older release last, once the kiosk's of that release has filled the
      package cache."""
    import bench_layers  # beside this file; it imports this module

    failed: list[str] = []
    done = {suite: threading.Event() for suite in RELEASES}

    def step(name: str, build, suite: str) -> None:
        try:
            _log(f"ready: {build(suite)}")
        except Exception as error:  # noqa: BLE001 (the tests that need it will build again and report)
            _log(f"build failed ({name} {suite}): {error}")
            failed.append(f"{name}-{suite}")

    newest = next(iter(RELEASES))

    def kiosk_chain() -> None:
        for suite in RELEASES:
            step("rootfs", base_rootfs, suite)
            done[suite].set()
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)

    def server_chain() -> None:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)
        done[newest].wait()
        step("bench-layer", bench_layers.bench_layer, newest)
        for suite in RELEASES:
            done[suite].wait()
            step("server-rootfs", server_rootfs, suite)

    threads = [threading.Thread(target=chain, name=chain.__name__) for chain in (kiosk_chain, server_chain)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return 1 if failed else 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["--all"]:
        sys.exit(build_all())
    if sys.argv[1:2] == ["--server"]:
        print(server_rootfs(*sys.argv[2:3]))
    else:
        for name in sys.argv[1:] or list(RELEASES):
            print(base_rootfs(name))
