"""Memory of the kiosk window's processes at home, per process: the quick measure behind issue 17's cuts.

Launches the kiosk window (``bench/kiosk_window.py``'s child: ``kiosk run`` with the window tests'
one-tile configuration) ``--samples`` times on one Xvfb display, with WebKit's compositing off as
provisioned kiosks run it, and reads ``/proc/PID/smaps_rollup`` of each process of its tree
``--settle`` seconds after the home was loaded: anonymous memory (what ``bench/boot.py``'s
``memory_mb_at_home`` counts, with kernel memory) and PSS. ``--env NAME=VALUE`` tries an
environment variable. Prints one JSON line of medians: ``main_anon_mb`` (the ``kiosk run`` Python
process: GTK, WebKit's UI side, the shell), ``web_anon_mb``, ``network_anon_mb``, ``tree_anon_mb``,
``tree_pss_mb``, and the samples. Code changes are compared by running it on each commit.
Run: .venv/bin/python bench/window_memory.py [--samples 3] [--env NAME=VALUE]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "window"))
sys.path.insert(0, str(REPO / "bench"))

from kiosk_window import start_xvfb  # noqa: E402
from single_tile_config import write_config  # noqa: E402


def rollup_mb(pid: int) -> dict[str, float]:
    figures = {}
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        for line in rollup:
            name, _, rest = line.partition(":")
            if name in ("Anonymous", "Pss"):
                figures[name] = int(rest.split()[0]) / 1024
    return figures


def one_sample(display: str, settle_s: float, extra_env: dict[str, str]) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="window-memory-") as work:
        config = Path(work) / "config"
        config.mkdir()
        write_config(config, "http://127.0.0.1:9/")
        env = {**os.environ, "WEBKIT_DISABLE_COMPOSITING_MODE": "1", **extra_env, "DISPLAY": display,
               "KIOSK_SHELL_PROBE_HOST": "127.0.0.1", "KIOSK_SHELL_PROBE_PORT": "9"}
        process = subprocess.Popen([sys.executable, str(REPO / "bench" / "kiosk_window.py"), "--child", str(config),
                                    str(Path(work) / "events")], env=env, stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            while not (line := process.stdout.readline()).startswith("HOME"):
                if not line:
                    raise RuntimeError("the kiosk window stopped before its home was shown")
            time.sleep(settle_s)
            root = psutil.Process(process.pid)
            by_name: dict[str, dict[str, float]] = {"main": rollup_mb(root.pid)}
            for child in root.children(recursive=True):
                by_name[{"WebKitWebProcess": "web", "WebKitNetworkProcess": "network"}.get(child.name(), child.name())] = \
                    rollup_mb(child.pid)
        finally:
            process.terminate()
            process.communicate(timeout=30)
    return {"main_anon_mb": by_name["main"]["Anonymous"], "web_anon_mb": by_name.get("web", {}).get("Anonymous", 0.0),
            "network_anon_mb": by_name.get("network", {}).get("Anonymous", 0.0),
            "tree_anon_mb": sum(figures["Anonymous"] for figures in by_name.values()),
            "tree_pss_mb": sum(figures["Pss"] for figures in by_name.values())}


def main() -> int:
    parser = argparse.ArgumentParser(description="Anonymous memory and PSS of the kiosk window's processes at home.")
    parser.add_argument("--samples", type=int, default=3, help="launches (default 3)")
    parser.add_argument("--settle", type=float, default=4.0, help="seconds after the home before reading (default 4)")
    parser.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="environment of the window")
    arguments = parser.parse_args()
    extra_env = {}
    for item in arguments.env:
        name, equals, value = item.partition("=")
        if not equals or not name:
            parser.error(f"--env {item!r}: expected NAME=VALUE")
        extra_env[name] = value
    xvfb, display = start_xvfb()
    try:
        samples = [one_sample(display, arguments.settle, extra_env) for _ in range(max(1, arguments.samples))]
    finally:
        xvfb.terminate()
        xvfb.wait(timeout=10)
    result = {key: round(statistics.median(sample[key] for sample in samples), 1) for key in samples[0]}
    result["samples"] = [{key: round(value, 1) for key, value in sample.items()} for sample in samples]
    result["env"] = extra_env
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
