"""Benchmark of a whole kiosk on a 2 GB PC: boot to the home page, memory at home and on a heavy
page, against Debian's Chromium --kiosk in the same system.

The system is the kiosk's Debian root filesystem as the playbook tests provision it (the example
inventory, Xvfb instead of Xorg: the real PC runs Xorg on its screen), booted with systemd-nspawn
in a 2 GB memory control group on 2 CPUs (tests/provisioning/bench_layers.py). Each boot gets a
fresh overlay; bench/boot_system.py adds one tile opening a local heavy page
(bench/heavy_page.py: ~6 MB of script, ~16,000 DOM nodes, 40 images), its loopback server inside
the container (which also answers the connectivity check, so the home is the "online" one).

Kiosk: the session as provisioned (kiosk-session.service, `kiosk run /etc/kiosk`).
Baseline: the same unit whose one X client is `kiosk serve` (the same shell, the same home page
path) and Debian's Chromium --kiosk on it.

Per boot:
- boot_to_home_s: systemd-nspawn's start → the home page loaded on the screen: the kiosk's own
  ready line in the journal ("Accueil affiché.", printed when WebKit finishes loading the home),
  Chromium's load event end (performance.timing.loadEventEnd, through DevTools).
- memory_mb_at_home: 5 s after that, the container's anonymous + kernel memory (the memory control
  group's total_rss + kmem usage; no page cache), MiB.
- memory_mb_heavy_page: the same, 5 s after the heavy page finished (it asks for done.txt once
  built and every image decoded); the tile is clicked with xdotool on the X display.
- oom_kills: the control group's OOM kills during the boot; responsive: every `true` run in the
  container every 0.5 s while the heavy page loads answered within 1 s (worst_answer_s says).

Boots alternate Chromium and kiosk, ``--boots N`` each (default 3); figures are medians, with the
host's load average. Prints one JSON line.
Run (root, as the system tests): .venv/bin/python bench/boot.py [--boots N] [--release trixie|bookworm]
[--provisioned DIR] (DIR: a provisioned layer made once by `bench/boot_system.py RELEASE [PARENT]`,
which prints it, to skip provisioning)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from boot_system import (CHROMIUM_DEBUG_PORT, CHROMIUM_HOME_PORT, HEAVY_TILE, SCREEN, layers, prepare_boot,  # noqa: E402
                         provision)
from heavy_page import site_bytes, write_heavy_site  # noqa: E402

from bench_layers import LimitedMachine, stacked_root  # noqa: E402  (tests/provisioning, via boot_system)

SETTLE_S = 5.0
HOME_TIMEOUT_S = 120
HEAVY_TIMEOUT_S = 180
XAUTHORITY = "/run/kiosk-session/Xauthority"
KEYS = ("boot_to_home_s", "memory_mb_at_home", "memory_mb_heavy_page", "oom_kills", "responsive")


class BootFailed(RuntimeError):
    pass


def _kiosk_home_at(machine) -> float | None:
    """Wall-clock time of the window's "Accueil affiché." line in the journal, if there is one."""
    result = machine.run("journalctl", "--no-pager", "-o", "json", "-u", "kiosk-session.service",
                         "--output-fields=MESSAGE", check=False, timeout=20)
    for line in result.stdout.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if entry.get("MESSAGE") == "Accueil affiché.":
            return int(entry["__REALTIME_TIMESTAMP"]) / 1e6
    return None


def _cdp(machine, expression: str):
    """Evaluate ``expression`` in the baseline Chromium's page (inside the container's network)."""
    result = subprocess.run(["nsenter", "--target", str(machine.leader), "--net", "--", sys.executable,
                             str(BENCH / "cdp_probe.py"), str(CHROMIUM_DEBUG_PORT), expression],
                            capture_output=True, text=True, timeout=30, check=False)
    return json.loads(result.stdout) if result.returncode == 0 and result.stdout.strip() else None


HOME_LOADED = ("(function () { var t = performance.timing; return location.port === '%d' && "
               "location.pathname === '/' && t.loadEventEnd > 0 ? t.loadEventEnd / 1000 : null; })()" % CHROMIUM_HOME_PORT)
TILE_RECT = ("(function () { var r = document.querySelector('[data-tuile=\"%s\"]').getBoundingClientRect();"
             " return [r.left, r.top, r.width, r.height]; })()" % HEAVY_TILE)


def wait_home(machine, variant: str) -> float:
    deadline = time.monotonic() + HOME_TIMEOUT_S
    while time.monotonic() < deadline:
        at = _kiosk_home_at(machine) if variant == "kiosk" else _cdp(machine, HOME_LOADED)
        if at:
            return at
        time.sleep(0.25)
    journal = machine.run("journalctl", "--no-pager", "-n", "60", "-u", "kiosk-session.service", check=False).stdout
    raise BootFailed(f"{variant}: the home page was not shown within {HOME_TIMEOUT_S} s\n{journal}")


def heavy_page_requests(machine) -> str:
    return machine.run("journalctl", "--no-pager", "-o", "cat", "-u", "bench-heavy.service", check=False, timeout=20).stdout


def click(machine, x: int, y: int) -> None:
    machine.run("env", "DISPLAY=:0", f"XAUTHORITY={XAUTHORITY}", "xdotool", "mousemove", str(x), str(y), "click", "1",
                user="kiosk", timeout=20)


class ResponsivenessWatch:
    """Runs ``true`` in the container every 0.5 s and keeps the slowest answer."""

    def __init__(self, machine) -> None:
        self.machine, self.worst_s, self.stop = machine, 0.0, threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                self.machine.run("true", timeout=30)
                took = time.monotonic() - started
            except subprocess.TimeoutExpired:
                took = 30.0
            self.worst_s = max(self.worst_s, took)
            self.stop.wait(0.5)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.stop.set()
        self.thread.join()


def open_heavy_page(machine, variant: str, tile_point: tuple[int, int] | None) -> tuple[int, int]:
    """Click the heavy tile and wait until the page has finished (its done.txt request); return the
    point clicked. The baseline finds the tile through DevTools; the kiosk window's page sits under
    its native toolbar, so its click is tried at the baseline's point and then lower."""
    if variant == "chromium":
        left, top, width, height = _cdp(machine, TILE_RECT)
        candidates = [(int(left + width / 2), int(top + height / 2))]
    else:
        x, y = tile_point or (SCREEN[0] // 4, SCREEN[1] // 3)
        candidates = [(x, y + offset) for offset in (64, 32, 96, 0, 128)]
    for x, y in candidates:
        click(machine, x, y)
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline and "GET / " not in heavy_page_requests(machine):
            time.sleep(0.25)
        if "GET / " in heavy_page_requests(machine):
            break
    else:
        raise BootFailed(f"{variant}: clicking the heavy tile at {candidates} did not open the heavy page")
    deadline = time.monotonic() + HEAVY_TIMEOUT_S
    while time.monotonic() < deadline:
        if "GET /done.txt" in heavy_page_requests(machine):
            return x, y
        if machine.process.poll() is not None:
            break
        time.sleep(0.5)
    raise BootFailed(f"{variant}: the heavy page did not finish within {HEAVY_TIMEOUT_S} s")


def _breakdown(machine) -> dict:
    """Where the memory at home is: anonymous vs kernel, and the biggest processes (RSS, MiB)."""
    stat = machine.memory_stat()
    kmem = int((machine.memory_cgroup / "memory.kmem.usage_in_bytes").read_text())
    top = []
    for procs in machine.memory_cgroup.rglob("cgroup.procs"):
        for pid in procs.read_text().split():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
                args = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")[:80]
            except OSError:
                continue
            anon_kb = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("RssAnon:")), 0)
            if anon_kb > 2048:
                top.append((anon_kb, args))
    top.sort(reverse=True)
    return {"anon_mb": round(stat["total_rss"] / 2**20, 1), "kernel_mb": round(kmem / 2**20, 1),
            "shmem_mb": round(stat["total_shmem"] / 2**20, 1),
            "top_anon_mb": [f"{kb // 1024} {args}" for kb, args in top[:16]]}


def _meminfo_2gb(work: Path) -> Path:
    """What /proc/meminfo says on a 2 GB PC just booted, bound over the container's own (which shows
    the host's): the kiosk sizes its web process memory limit from MemTotal (kiosk/window/memory.py)."""
    path = work / "meminfo-2gb"
    if not path.exists():
        host = Path("/proc/meminfo").read_text().splitlines()
        wanted = {"MemTotal": 2097152, "MemFree": 1572864, "MemAvailable": 1835008, "SwapTotal": 0, "SwapFree": 0}
        lines = []
        for line in host:
            name = line.split(":", 1)[0]
            lines.append(f"{name + ':':<16}{wanted[name]:>8} kB" if name in wanted else line)
        path.write_text("\n".join(lines) + "\n")
    return path


def boot_once(variant: str, lowers: list[Path], heavy_site: Path, work: Path, tile_point, analyze: bool = False,
              kiosk_env: tuple[str, ...] = (), settle_s: float = SETTLE_S) -> dict:
    with stacked_root(Path(tempfile.mkdtemp(prefix=f"{variant}-", dir=work)), lowers) as (root, _upper):
        prepare_boot(root, variant, heavy_site)
        if variant == "kiosk" and kiosk_env:  # --kiosk-env: try a setting before putting it in the playbook
            with open(root / "etc/systemd/system/kiosk-session.service.d/bench.conf", "a") as dropin:
                dropin.writelines(f"Environment={item}\n" for item in kiosk_env)
        shutil.copy(_meminfo_2gb(work), root / "etc/bench-meminfo")  # bound over /proc/meminfo at boot
        machine = LimitedMachine(root, work / f"{variant}-console.log")
        try:
            machine.boot()
            home_at = wait_home(machine, variant)
            figures = {"boot_to_home_s": round(home_at - machine.started_at, 2)}
            time.sleep(settle_s)
            figures["memory_mb_at_home"] = round(machine.memory_mb(), 1)
            if analyze:
                figures["home_breakdown"] = _breakdown(machine)
            with ResponsivenessWatch(machine) as watch:
                point = open_heavy_page(machine, variant, tile_point)
                time.sleep(settle_s)
            figures["memory_mb_heavy_page"] = round(machine.memory_mb(), 1)
            figures["oom_kills"] = machine.oom_kills()
            figures["worst_answer_s"] = round(watch.worst_s, 2)
            figures["responsive"] = watch.worst_s <= 1.0
            figures["tile_point"] = point
            if analyze:
                figures["critical_chain"] = machine.run("systemd-analyze", "critical-chain", "--no-pager",
                                                        "graphical.target", "kiosk-session.service", check=False).stdout
                figures["blame"] = machine.run("systemd-analyze", "blame", "--no-pager", check=False).stdout
                figures["session_journal"] = machine.run(
                    "journalctl", "--no-pager", "-o", "short-monotonic", "-u", "kiosk-session.service",
                    check=False).stdout[-6000:]
            return figures
        finally:
            machine.shutdown()


def run_bench(provisioned_upper: Path, suite: str, boots: int, work: Path, analyze: bool = False,
              kiosk_env: tuple[str, ...] = (), quick: bool = False) -> dict:
    """Boot ``boots`` times each, alternating (Chromium first: its DevTools place the tile's click),
    and return the one-line result. ``quick``: a lighter heavy page and 1 s instead of 5 to settle,
    to check the machinery only (its figures mean nothing)."""
    heavy_site = write_heavy_site(work / "heavy-site", small=quick)
    lowers = layers(suite, provisioned_upper)
    samples: dict[str, list[dict]] = {"kiosk": [], "chromium": []}
    tile_point = None
    for _ in range(boots):
        for variant in ("chromium", "kiosk"):
            figures = boot_once(variant, lowers, heavy_site, work, tile_point, analyze, kiosk_env,
                                settle_s=1.0 if quick else SETTLE_S)
            if variant == "chromium":
                tile_point = figures["tile_point"]
            samples[variant].append(figures)
            print(f"{variant}: {json.dumps({k: v for k, v in figures.items() if k in KEYS or k == 'worst_answer_s'})}",
                  file=sys.stderr, flush=True)
    result: dict = {}
    for variant, prefix in (("kiosk", ""), ("chromium", "chromium_")):
        runs = samples[variant]
        for key in ("boot_to_home_s", "memory_mb_at_home", "memory_mb_heavy_page"):
            result[prefix + key] = round(statistics.median(run[key] for run in runs), 2)
        result[prefix + "oom_kills"] = max(run["oom_kills"] for run in runs)
        result[prefix + "responsive"] = all(run["responsive"] for run in runs)
        result[prefix + "worst_answer_s"] = max(run["worst_answer_s"] for run in runs)
        result[prefix + "samples_boot_to_home_s"] = [run["boot_to_home_s"] for run in runs]
        result[prefix + "samples_memory_mb_at_home"] = [run["memory_mb_at_home"] for run in runs]
    result["boot_ratio"] = round(result["boot_to_home_s"] / result["chromium_boot_to_home_s"], 2)
    result["memory_ratio"] = round(result["memory_mb_at_home"] / result["chromium_memory_mb_at_home"], 2)
    result.update(kiosk_env=list(kiosk_env), quick=quick, boots=boots, release=suite, memory_limit_mb=2048, cpus=2,
                  heavy_page_mb=round(site_bytes(heavy_site) / 1e6, 1), load_average=[round(x, 2) for x in os.getloadavg()])
    if analyze:
        result["kiosk_critical_chain"] = samples["kiosk"][-1]["critical_chain"]
        result["kiosk_blame"] = samples["kiosk"][-1]["blame"]
        result["kiosk_session_journal"] = samples["kiosk"][-1]["session_journal"]
        result["kiosk_home_breakdown"] = samples["kiosk"][-1]["home_breakdown"]
        result["chromium_home_breakdown"] = samples["chromium"][-1]["home_breakdown"]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--boots", type=int, default=3, help="boots of each session (default 3)")
    parser.add_argument("--release", default="trixie", help="Debian release: trixie (13) or bookworm (12)")
    parser.add_argument("--provisioned", type=Path, default=None,
                        help="upper directory of an already provisioned system (skips `provision run`)")
    parser.add_argument("--analyze", action="store_true",
                        help="add systemd-analyze critical-chain and blame, the session's journal, the memory by process")
    parser.add_argument("--quick", action="store_true",
                        help="check the machinery only: a lighter heavy page, 1 s to settle (figures mean nothing)")
    parser.add_argument("--kiosk-env", action="append", default=[], metavar="NAME=VALUE",
                        help="an environment variable for the kiosk session only (to try a setting)")
    args = parser.parse_args(argv)
    if os.geteuid() != 0:
        print("bench/boot.py needs root (overlay mounts, systemd-nspawn, control groups).", file=sys.stderr)
        return 2
    if args.boots < 1:
        print("--boots must be at least 1.", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="kiosk-boot-bench-", dir="/var/tmp") as temporary:
        work = Path(temporary)
        upper = args.provisioned
        if upper is None:
            started = time.monotonic()
            upper = provision(args.release, work / "provisioned")
            print(f"provisioned in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
        try:
            result = run_bench(upper, args.release, args.boots, work, args.analyze, tuple(args.kiosk_env), args.quick)
        except BootFailed as error:
            print(f"bench failed: {error}", file=sys.stderr)
            return 1
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
