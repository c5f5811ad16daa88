"""Fixtures for the provisioning tests: a real Debian root filesystem (13 and 12: every system test
runs once per release), provisioned by the real `provision run` command through the chroot
connection, then booted with systemd-nspawn.

$KIOSK_TEST_DEBIAN_RELEASES (e.g. "trixie") limits the releases, for a quicker local run.

The expensive parts are session-scoped (one base build, cached across runs; one provisioned system,
two runs; one boot) and always cleaned up: overlay mounts and the booted machine are torn down in
finalizers even when a test fails.

Scheduling (CI time, issue 14): each release's tests run together, the kiosk's first and the fleet
server's after them, and the booted kiosk is powered off as soon as no later test needs it (it does not
compete with the fleet server's playbook runs). ``@pytest.mark.newest_release_only`` runs a test on
Debian 13 only, skipped before any fixture is set up on the others.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

import debian_rootfs as rootfs

from provision_runs import INTERRUPTED_PACKAGE, ProvisionResult, interrupt_package, run_provision, write_inventory
# The test's X server: a virtual one, on no terminal.
TEST_EXTRA_VARS = {
    "kiosk__x_server": "/usr/bin/Xvfb :0 -screen 0 1280x1024x24 -nolisten tcp",
    "kiosk__session_tty": "",
    "kiosk__extra_packages": ["xvfb"],
    "kiosk__restart_delay_s": 1,
}


NEWEST_RELEASE = next(iter(rootfs.RELEASES))
# The order of each release's test modules: the provisioned kiosk's (read, then booted, then over SSH),
# then the fleet server's (their own root filesystems). Other modules keep their place after these.
MODULE_ORDER = ["test_boot_bench", "test_booted_system", "test_provision_command", "test_provisioned_system",
                "test_ssh_audit", "test_fleet_server", "test_fleet_server_live_postgresql"]


def pytest_configure(config):
    config.addinivalue_line("markers", "newest_release_only: run on the newest Debian release only (the "
                            "`release` fixture's first); skipped before setup on the others")


def pytest_collection_modifyitems(config, items):
    """Each release's tests together, in MODULE_ORDER; tests for the newest release only skipped on the
    others before their fixtures are set up (a skipped test pays no provisioning)."""
    def release_of(item):
        callspec = getattr(item, "callspec", None)
        return callspec.params.get("release") if callspec else None

    for item in items:
        release = release_of(item)
        if release and release != NEWEST_RELEASE and item.get_closest_marker("newest_release_only"):
            item.add_marker(pytest.mark.skip(reason=f"checked once, on the newest release ({NEWEST_RELEASE})"))
    ordered = [(index, item) for index, item in enumerate(items) if release_of(item)]
    known = list(rootfs.RELEASES)

    def rank(entry):
        index, item = entry
        module = item.module.__name__.rsplit(".", 1)[-1]
        module_rank = MODULE_ORDER.index(module) if module in MODULE_ORDER else len(MODULE_ORDER)
        return (known.index(release_of(item)), module_rank, index)

    slots = [index for index, _ in ordered]
    for slot, (_, item) in zip(slots, sorted(ordered, key=rank)):
        items[slot] = item
    _BOOTED_USERS.clear()
    for index, item in enumerate(items):
        if "booted" in getattr(item, "fixturenames", ()):
            _BOOTED_USERS[release_of(item)] = index
    _ITEM_INDEX.clear()
    _ITEM_INDEX.update({id(item): index for index, item in enumerate(items)})


# The booted machine of each release, and the index of the last test that uses it.
_BOOTED: dict[str, object] = {}
_BOOTED_USERS: dict[str, int] = {}
_ITEM_INDEX: dict[int, int] = {}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """After the last test that needs a release's booted machine (and its module's finalizers), power it
    off: the tests after it do not pay for a running kiosk."""
    yield
    index = _ITEM_INDEX.get(id(item))
    for release, machine in list(_BOOTED.items()):
        if index is not None and index >= _BOOTED_USERS.get(release, -1):
            del _BOOTED[release]
            machine.shutdown()


def system_tests_possible() -> str | None:
    if os.geteuid() != 0:
        return "needs root (mmdebstrap, overlay mounts, chroot, systemd-nspawn)"
    for tool in ("mmdebstrap", "systemd-nspawn", "nsenter", "mount"):
        if shutil.which(tool) is None:
            return f"needs {tool} on the host"
    return None


@pytest.fixture(scope="session")
def system_or_skip() -> None:
    reason = system_tests_possible()
    if reason:
        pytest.skip(reason)


@dataclass
class Overlay:
    root: Path
    upper: Path


class Overlays:
    def __init__(self, base: Path, workspace: Path) -> None:
        self.base = base
        self.workspace = workspace
        self.mounted: list[Path] = []

    def create(self, name: str) -> Overlay:
        directory = self.workspace / name
        upper, work, root = directory / "upper", directory / "work", directory / "root"
        for path in (upper, work, root):
            path.mkdir(parents=True)
        subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                        f"lowerdir={self.base},upperdir={upper},workdir={work}", str(root)], check=True)
        self.mounted.append(root)
        return Overlay(root=root, upper=upper)

    def mount_proc(self, overlay: Overlay) -> Path:
        point = overlay.root / "proc"
        subprocess.run(["mount", "-t", "proc", "proc", str(point)], check=True)
        self.mounted.append(point)
        return point

    def unmount(self, point: Path) -> None:
        subprocess.run(["umount", "-l", str(point)], check=False)
        if point in self.mounted:
            self.mounted.remove(point)

    def cleanup(self) -> None:
        for point in reversed(list(self.mounted)):
            self.unmount(point)


def releases() -> list[str]:
    wanted = os.environ.get("KIOSK_TEST_DEBIAN_RELEASES", "").replace(",", " ").split()
    unknown = [name for name in wanted if name not in rootfs.RELEASES]
    if unknown:
        raise pytest.UsageError(f"KIOSK_TEST_DEBIAN_RELEASES: unknown release(s) {unknown}; known: {list(rootfs.RELEASES)}")
    return wanted or list(rootfs.RELEASES)


@pytest.fixture(scope="session", params=releases())
def release(request) -> str:
    """The Debian release (codename) the system tests run on."""
    return request.param


@pytest.fixture(scope="session")
def overlays(system_or_skip, release, tmp_path_factory):
    started = time.monotonic()
    base = rootfs.base_rootfs(release)
    print(f"\nbase root filesystem {base} ready in {time.monotonic() - started:.0f} s")
    manager = Overlays(base, tmp_path_factory.mktemp(f"overlays-{release}"))
    yield manager
    manager.cleanup()


@pytest.fixture(scope="session")
def admin_key(tmp_path_factory) -> Path:
    """The association's SSH key for these tests (the private half; ``.pub`` beside it)."""
    directory = tmp_path_factory.mktemp("ssh")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "essai@mairie-kiosk-tests",
                    "-f", str(directory / "id_ed25519")], check=True)
    return directory / "id_ed25519"


@pytest.fixture(scope="session")
def extra_vars_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("extra") / "test-vars.yml"
    path.write_text(yaml.safe_dump(TEST_EXTRA_VARS), encoding="utf-8")
    return path


@dataclass
class ProvisionedSystem:
    release: str
    root: Path
    asset_tag: str
    inventory: Path
    first: ProvisionResult
    second: ProvisionResult
    runs_dir: Path
    first_built_the_wheelhouse: bool  # else it installed the session's first (--wheelhouse)
    fleet_private_key: bytes  # PEM of the fleet key whose public half the inventory carries
    # On the newest release the first run is a kiosk provisioned before central management (its
    # inventory has no `association.fleet_public_key`): what it left of that, read between the two runs.
    before_central_management: dict[str, str | None] | None

    @property
    def wheelhouse(self) -> Path:
        """The wheelhouse both runs installed (reused by later runs on this machine)."""
        return _WHEELHOUSES[0]


# What the fleet's public key brings to a kiosk (issue 12): read between the runs of the newest release.
CENTRAL_MANAGEMENT_FILES = ("/etc/kiosk/fleet-bundles.pub", "/etc/kiosk/agent.yaml", "/usr/local/lib/kiosk/session",
                            "/var/lib/kiosk/release")


def _fleet_key_pair() -> tuple[bytes, str]:
    """A fleet key pair of this test session (what `fleet` makes): private PEM, public PEM."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private = Ed25519PrivateKey.generate()
    private_pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption())
    public_pem = private.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)
    return private_pem, public_pem.decode("ascii")


def _read_or_none(root: Path, path: str) -> str | None:
    target = root / path.lstrip("/")
    if target.is_dir():
        return "(dossier)"
    return target.read_text(encoding="utf-8") if target.exists() else None


# The wheelhouse built by the session's first `provision run` (kept in its run directory).
_WHEELHOUSES: list[Path] = []


@pytest.fixture(scope="session")
def provisioned(overlays, release, admin_key, extra_vars_file, tmp_path_factory) -> ProvisionedSystem:
    """The example inventory's machine (plus the tests' own SSH key and fleet key), provisioned twice by
    `provision run` on a fresh overlay.

    On the newest release the first run is given the inventory without `association.fleet_public_key`
    (a kiosk provisioned before central management, issue 12) and the second the whole inventory: the
    one more run that brings it up to date (test_provisioned_system.py). On the others both runs get the
    whole inventory and the second changes nothing; on the newest, that nothing is left to change is the
    dry run's test (test_provision_command.py: `--check` after the second run changes nothing)."""
    overlay = overlays.create("provisioned")
    workspace = tmp_path_factory.mktemp("provisioned")
    test_key = admin_key.with_suffix(".pub").read_text(encoding="utf-8").strip()
    fleet_private_key, fleet_public_key = _fleet_key_pair()

    def test_keys(data):
        data["association"]["ssh_keys"].append(test_key)
        data["association"]["fleet_public_key"] = fleet_public_key

    def before_central_management(data):
        test_keys(data)
        del data["association"]["fleet_public_key"]

    inventory = write_inventory(workspace / "inventory", str(overlay.root), test_keys)
    upgraded = release == NEWEST_RELEASE
    first_inventory = (write_inventory(workspace / "inventory-before", str(overlay.root), before_central_management)
                       if upgraded else inventory)
    runs_dir = workspace / "runs"
    interrupt_package(overlay.root, INTERRUPTED_PACKAGE)
    started = time.monotonic()
    # The first run of the session builds the wheelhouse (both releases' Pythons); a later release's first
    # run installs from it, as a volunteer's second kiosk from the same laptop may (issue 14: suite time).
    wheelhouse = ["--wheelhouse", str(_WHEELHOUSES[0])] if _WHEELHOUSES else []
    first = run_provision("run", str(first_inventory), "-e", str(extra_vars_file), *wheelhouse, runs_dir=runs_dir)
    print(f"\n{release}: first provision run in {time.monotonic() - started:.0f} s")
    if first.returncode == 0 and not _WHEELHOUSES:
        _WHEELHOUSES.append(first.run_dir / "wheelhouse")
    before = {path: _read_or_none(overlay.root, path) for path in CENTRAL_MANAGEMENT_FILES} if upgraded else None
    started = time.monotonic()
    # The second run installs the very same wheels (--wheelhouse): the project's wheel is rebuilt
    # byte for byte when the tree is unchanged (test_provision_wheelhouse.py), but other work on the
    # tree between the two runs must not count as a change made by the playbooks.
    second = run_provision("run", str(inventory), "-e", str(extra_vars_file), "--wheelhouse",
                           str(_WHEELHOUSES[0]), runs_dir=runs_dir) if first.returncode == 0 else first
    print(f"{release}: second provision run in {time.monotonic() - started:.0f} s")
    asset_tag = yaml.safe_load(inventory.read_text(encoding="utf-8"))["machines"][0]["asset_tag"]
    return ProvisionedSystem(release, overlay.root, asset_tag, inventory, first, second, runs_dir, not wheelhouse,
                             fleet_private_key, before)


@pytest.fixture(scope="session")
def booted(provisioned, tmp_path_factory):
    """The provisioned system, booted with systemd-nspawn; always powered off afterwards."""
    from nspawn_machine import BootedMachine

    assert provisioned.second.returncode == 0, provisioned.second.output
    # What `provision run -K` gives on a real PC (the volunteer's sudo password), without a prompt:
    # the SSH tests become root through sudo like the real command does.
    sudoers = provisioned.root / "etc/sudoers.d/90-tests-benevole"
    sudoers.write_text("benevole ALL=(ALL:ALL) NOPASSWD: ALL\n", encoding="utf-8")
    sudoers.chmod(0o440)
    machine = BootedMachine(provisioned.root, tmp_path_factory.mktemp("nspawn") / "console.log")
    try:
        machine.boot()
        machine.state = machine.wait_until_settled()
        _BOOTED[provisioned.release] = machine
        yield machine
    finally:
        _BOOTED.pop(provisioned.release, None)
        machine.shutdown()
