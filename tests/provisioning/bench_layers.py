"""What bench/boot.py (and its quick test) adds to the playbook tests' root filesystems, without
changing debian_rootfs.py or nspawn_machine.py:

- ``bench_layer(suite)``: an overlay layer (an upper directory, cached beside the base root
  filesystems) holding Debian's Chromium (the baseline) and xdotool (the bench's "finger" on the
  X display). Both the kiosk and the Chromium boots stack it, so both sessions boot the very same
  files; the kiosk never loads them.
- ``stacked_root(...)``: a fresh, writable overlay over read-only layers (the provisioned system,
  the bench layer, the base), one per boot, so every boot starts from the same state.
- ``LimitedMachine``: a ``BootedMachine`` booted inside its own memory and cpuset control groups
  (2 GB, 2 CPUs), whose memory figures it reads.

The host of the tests runs the hybrid cgroup v1 layout without systemd as PID 1, so
``systemd-nspawn --property=MemoryMax=2G`` (which asks the host's systemd for a scope) is not
available: the bench makes the control groups itself, as children of its own, and starts nspawn in
them; everything in the container is charged there.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

import psutil

import debian_rootfs as rootfs
from nspawn_machine import BootedMachine

BENCH_PACKAGES = ["chromium", "xdotool"]
LAYER_VERSION = "1"


def bench_layer(suite: str) -> Path:
    """The cached layer with BENCH_PACKAGES installed over ``suite``'s kiosk base (built once, a
    minute or two with the packages cached)."""
    base = rootfs.base_rootfs(suite)
    key = rootfs.cache_key(suite, [LAYER_VERSION, base.name, *BENCH_PACKAGES])
    target = rootfs.CACHE / f"bench-layer-{suite}-{key}"
    if (target / ".complete").exists():
        return target
    # `./dev test`'s background builder makes it too (debian_rootfs.build_all): one build at a time.
    with rootfs._exclusive(rootfs.CACHE / f".build-bench-layer-{suite}.lock"):  # noqa: SLF001
        if not (target / ".complete").exists():
            _build_layer(base, suite, target)
    return target


def _build_layer(base: Path, suite: str, target: Path) -> None:
    building = target.with_name(target.name + ".building")
    if building.exists():
        subprocess.run(["umount", "-l", str(building / "root")], check=False)
        shutil.rmtree(building)
    upper, work, root = building / "upper", building / "work", building / "root"
    for path in (upper, work, root):
        path.mkdir(parents=True)
    _mount_overlay([base], upper, work, root)
    try:
        debs = rootfs.CACHE / f"debs-{suite}"
        with rootfs._chroot_mounts(root, debs):  # noqa: SLF001 - the same chroot set-up as the base's
            env = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL": "C"}
            policy = root / "usr/sbin/policy-rc.d"
            policy.write_text("#!/bin/sh\nexit 101\n")
            policy.chmod(0o755)
            rootfs._run(["chroot", str(root), "apt-get", "install", "-y", "-qq", "--no-install-recommends",  # noqa: SLF001
                         *BENCH_PACKAGES], env=env)
            policy.unlink()
    finally:
        subprocess.run(["umount", "-l", str(root)], check=False)
    (upper / ".complete").write_text("\n".join(BENCH_PACKAGES) + "\n")
    upper.rename(target)
    shutil.rmtree(building, ignore_errors=True)
    for old in rootfs.CACHE.glob(f"bench-layer-{suite}-*"):
        if old != target and not old.name.endswith(".building"):
            shutil.rmtree(old, ignore_errors=True)


def _mount_overlay(lowers: list[Path], upper: Path, work: Path, root: Path) -> None:
    lowerdir = ":".join(str(path) for path in lowers)
    subprocess.run(["mount", "-t", "overlay", "overlay", "-o", f"lowerdir={lowerdir},upperdir={upper},workdir={work}",
                    str(root)], check=True, capture_output=True)


@contextmanager
def stacked_root(directory: Path, lowers: list[Path]):
    """A writable root filesystem over ``lowers`` (topmost first) in ``directory``; yields
    ``(root, upper)`` and unmounts and removes it afterwards."""
    upper, work, root = directory / "upper", directory / "work", directory / "root"
    for path in (upper, work, root):
        path.mkdir(parents=True)
    _mount_overlay(lowers, upper, work, root)
    try:
        yield root, upper
    finally:
        subprocess.run(["umount", "-l", str(root)], check=False)
        shutil.rmtree(directory, ignore_errors=True)


def own_cgroup(controller: str) -> Path:
    """This process's control group directory for a cgroup v1 ``controller``."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            return Path("/sys/fs/cgroup") / controller / path.lstrip("/")
    raise RuntimeError(f"no cgroup v1 {controller} hierarchy on this host (the bench needs it)")


class LimitedMachine(BootedMachine):
    """A booted machine with at most ``memory_mb`` of memory (anonymous, kernel and page cache, as
    on a real PC without swap) and the CPUs ``cpus``."""

    def __init__(self, root: Path, log_path: Path, *, memory_mb: int = 2048, cpus: str = "0-1",
                 nspawn_options: tuple[str, ...] = ()) -> None:
        super().__init__(root, log_path)
        self.nspawn_options = nspawn_options
        name = f"kiosk-bench-{os.getpid()}-{time.monotonic_ns()}"
        self.memory_cgroup = own_cgroup("memory") / name
        self.cpuset_cgroup = own_cgroup("cpuset") / name
        self.limit_mb, self.cpus = memory_mb, cpus
        self.started_at: float | None = None  # time.time() at systemd-nspawn's start

    def boot(self, timeout_s: float = 60) -> None:
        self.memory_cgroup.mkdir()
        (self.memory_cgroup / "memory.limit_in_bytes").write_text(str(self.limit_mb * 1024 * 1024))
        self.cpuset_cgroup.mkdir()
        parent = self.cpuset_cgroup.parent
        (self.cpuset_cgroup / "cpuset.mems").write_text((parent / "cpuset.mems").read_text())
        (self.cpuset_cgroup / "cpuset.cpus").write_text(self.cpus)
        groups = [self.memory_cgroup / "cgroup.procs", self.cpuset_cgroup / "cgroup.procs"]

        def enter_groups() -> None:
            for procs in groups:
                with open(procs, "w") as handle:
                    handle.write(str(os.getpid()))

        self.log = log = open(self.log_path, "wb")
        self.started_at = time.time()
        self.process = subprocess.Popen(
            ["systemd-nspawn", "--boot", "--directory", str(self.root), "--private-network", "--register=no",
             "--keep-unit", "--console=passive", "--quiet", "--timezone=off", "--resolv-conf=off",
             "--link-journal=no", *self.nspawn_options],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, preexec_fn=enter_groups)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"systemd-nspawn ended with {self.process.returncode}: "
                                   f"{self.log_path.read_text(errors='replace')[-3000:]}")
            children = [child for child in psutil.Process(self.process.pid).children() if child.name() == "systemd"]
            if children:
                self.leader = children[0].pid
                return
            time.sleep(0.05)
        raise RuntimeError("the container did not start in time")

    # ------------------------------------------------------------------ figures

    def memory_stat(self) -> dict[str, int]:
        stat = {}
        for line in (self.memory_cgroup / "memory.stat").read_text().splitlines():
            key, value = line.split()
            stat[key] = int(value)
        return stat

    def memory_mb(self) -> float:
        """Anonymous + kernel memory of the whole container (no page cache), in MB (MiB)."""
        anon = self.memory_stat()["total_rss"]
        kernel = int((self.memory_cgroup / "memory.kmem.usage_in_bytes").read_text())
        return (anon + kernel) / 2**20

    def oom_kills(self) -> int:
        for line in (self.memory_cgroup / "memory.oom_control").read_text().splitlines():
            if line.startswith("oom_kill "):
                return int(line.split()[1])
        return 0

    def shutdown(self) -> None:
        try:
            super().shutdown()
        finally:
            self._remove_cgroups()

    def _remove_cgroups(self) -> None:
        for group in (self.memory_cgroup, self.cpuset_cgroup):
            for _ in range(50):
                if not group.exists():
                    break
                leftovers = [int(pid) for pid in (group / "cgroup.procs").read_text().split()]
                for pid in leftovers:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                try:
                    group.rmdir()
                    break
                except OSError:
                    time.sleep(0.2)
