"""Benchmark of the kiosk window against Debian's Chromium in --kiosk mode, on one Xvfb display.

Kiosk: `kiosk run` (as a child process: pywebview's GTK window adopted by the kiosk, as provisioned
kiosks run it) from launch to the home screen loaded; "Terminer ma session"
to the home screen loaded again (median of 10 sessions, each visiting a loopback service page);
PSS of the whole process tree (the kiosk process with its shell thread, WebKit's network and web
processes) at home and after the 10 sessions.
Baseline: /usr/bin/chromium --kiosk on the same home page (served by the same shell), from launch to
the page's load event (performance.timing.loadEventEnd), and the PSS of its process tree.

Each side is launched ``--samples N`` times (default 5), alternating kiosk and Chromium, and every
figure is the median over the samples (wipe_s: the median of every wipe of every sample, wipe_max_s
the worst). "Terminer ma session" now asks first: the bench answers "Oui, tout effacer" (the
question's own handler) and times the wipe up to the new view's first page (the shell's
session-ended page, shown here 0.5 s before the home comes back).

Prints one JSON line: launch_s, wipe_s, pss_mb, pss_after_10_sessions_mb, chromium_launch_s,
chromium_pss_mb (and wipe_max_s, samples, and the per-sample launch times), and launch_cpu_s /
chromium_launch_cpu_s: the CPU time of each side's whole process tree when its home was shown (the
kiosk's includes Python's start and imports; Chromium's is read once Playwright saw the load event),
steadier than wall-clock times on a shared machine.
Run: .venv/bin/python bench/kiosk_window.py [--samples N]
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "window"))  # the same one-tile configuration as the window tests

from single_tile_config import write_config  # noqa: E402

SESSIONS = 10
SETTLE_S = 2.0
CHROMIUM = "/usr/bin/chromium"


# ---------------------------------------------------------------- shared helpers

def tree_pss_mb(pid: int) -> float:
    """Proportional set size of a process and all its descendants, in MB."""
    total_kb = 0
    root = psutil.Process(pid)
    for process in [root, *root.children(recursive=True)]:
        try:
            with open(f"/proc/{process.pid}/smaps_rollup") as rollup:
                for line in rollup:
                    if line.startswith("Pss:"):
                        total_kb += int(line.split()[1])
                        break
        except (FileNotFoundError, ProcessLookupError):
            continue  # a process that ended while we counted
    return round(total_kb / 1024, 1)


def tree_cpu_s(pid: int) -> float:
    """CPU time (user + system) spent so far by a process and all its descendants, in seconds: on a
    shared machine, steadier than wall-clock time for "how much work does a launch take"."""
    total = 0.0
    root = psutil.Process(pid)
    for process in [root, *root.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue  # a process that ended while we counted
        total += times.user + times.system
    return round(total, 2)


def start_xvfb() -> tuple[subprocess.Popen, str]:
    read, write = os.pipe()
    process = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                               pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as pipe:
        return process, ":" + pipe.readline().strip()


class _Service(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802
        body = (b"<!doctype html><html lang='fr'><head><meta charset='utf-8'><title>Service</title></head><body>"
                b"<h1>Service</h1><script>document.cookie='a=1';localStorage.setItem('k','v');</script></body></html>")
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


# ---------------------------------------------------------------- the kiosk side (child process)

def child(config_dir: str, events_dir: str) -> int:
    """`kiosk run` with a small line protocol on stdin/stdout for the parent to drive it."""
    from gi.repository import GLib

    from kiosk.config import load_config
    from kiosk.window.run import run
    from kiosk.window.settings import WindowSettings

    def on_show(kiosk):
        state = {"waiting": "home"}

        def say(text: str) -> None:
            sys.stdout.write(text + "\n")
            sys.stdout.flush()

        def finished(view, event):
            from gi.repository import WebKit2
            if event != WebKit2.LoadEvent.FINISHED or view is not kiosk.view:
                return
            if state["waiting"] == "home" and view.get_uri() == kiosk.home:
                state["waiting"] = None
                say(f"HOME {time.time()}")
            elif state["waiting"] == "wipe":  # the new view's first page: the session-ended page
                state["waiting"] = None
                say(f"WIPED {time.monotonic() - state['wipe_started']}")
            elif state["waiting"] == "visit" and view.get_uri() != kiosk.home:
                state["waiting"] = None
                say("VISITED")

        def command(channel, _condition):
            line = channel.readline().strip()
            if line.startswith("visit "):
                state["waiting"] = "visit"
                kiosk.on_toolbar("home")  # counts as input: the session starts
                kiosk.view.connect("load-changed", finished)
                kiosk.view.load_uri(line.split(" ", 1)[1])
            elif line == "end":
                state["waiting"], state["wipe_started"] = "wipe", time.monotonic()
                kiosk.on_toolbar("end")  # the button's own handler: the question
                kiosk.on_end_erase()     # "Oui, tout effacer"
                kiosk.view.connect("load-changed", finished)
            return bool(line)

        kiosk.view.connect("load-changed", finished)
        if kiosk.home_ready:  # already loaded while pywebview showed the window
            state["waiting"] = None
            say(f"HOME {time.time()}")
        GLib.io_add_watch(GLib.IOChannel.unix_new(sys.stdin.fileno()), GLib.PRIORITY_DEFAULT, GLib.IOCondition.IN, command)

    settings = WindowSettings(events_dir=Path(events_dir), farewell_s=0.5)
    return run(load_config(config_dir), settings, on_show=on_show)


def bench_kiosk(display: str, config_dir: Path, service_url: str, work: Path) -> dict:
    # The shell's connectivity probe aims at a closed loopback port: the bench stays on this machine.
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DISPLAY": display, "KIOSK_SHELL_PROBE_HOST": "127.0.0.1", "KIOSK_SHELL_PROBE_PORT": "9"}
    started = time.time()
    process = subprocess.Popen([sys.executable, __file__, "--child", str(config_dir), str(work / "events")], env=env,
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)

    def expect(prefix: str) -> str:
        while True:
            line = process.stdout.readline()
            if not line:
                raise RuntimeError(f"the kiosk stopped before {prefix}")
            if line.startswith(prefix):
                return line.split(" ", 1)[1].strip() if " " in line.strip() else ""

    def send(line: str) -> None:
        process.stdin.write(line + "\n")
        process.stdin.flush()

    try:
        launch_s = float(expect("HOME")) - started
        launch_cpu_s = tree_cpu_s(process.pid)
        time.sleep(SETTLE_S)
        pss_mb = tree_pss_mb(process.pid)
        wipes = []
        for _ in range(SESSIONS):
            send(f"visit {service_url}")
            expect("VISITED")
            send("end")
            wipes.append(float(expect("WIPED")))
        time.sleep(SETTLE_S)
        pss_after = tree_pss_mb(process.pid)
    finally:
        process.terminate()
        process.communicate(timeout=20)
    return {"launch_s": round(launch_s, 3), "launch_cpu_s": launch_cpu_s, "wipes": wipes, "pss_mb": pss_mb, "pss_after_10_sessions_mb": pss_after}


# ---------------------------------------------------------------- the baseline: Chromium --kiosk

def bench_chromium(display: str, home_url: str, work: Path) -> dict:
    from playwright.sync_api import sync_playwright

    work.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    env = {**os.environ, "DISPLAY": display}
    args = [CHROMIUM, "--kiosk", "--no-first-run", "--no-default-browser-check", "--noerrdialogs",
            "--password-store=basic", f"--user-data-dir={work / 'chromium'}", f"--remote-debugging-port={port}",
            "--remote-debugging-address=127.0.0.1", home_url]
    if os.geteuid() == 0:
        args.insert(1, "--no-sandbox")  # Chromium refuses to run as root with its sandbox
    started = time.time()
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with sync_playwright() as playwright:
            browser = _connect(playwright, port)
            page = _home_page(browser, home_url)
            page.wait_for_function("performance.timing.loadEventEnd > 0", timeout=30_000)
            loaded_ms = page.evaluate("performance.timing.loadEventEnd")
            launch_cpu_s = tree_cpu_s(process.pid)
            browser.close()
        time.sleep(SETTLE_S)
        pss_mb = tree_pss_mb(process.pid)
    finally:
        process.terminate()
        process.wait(timeout=20)
    return {"chromium_launch_s": round(loaded_ms / 1000 - started, 3), "chromium_launch_cpu_s": launch_cpu_s,
            "chromium_pss_mb": pss_mb}


def _connect(playwright, port: int):
    deadline = time.monotonic() + 30
    while True:
        try:
            return playwright.chromium.connect_over_cdp(f"http://127.0.0.1:{port}")
        except Exception:  # noqa: BLE001 - not listening yet
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _home_page(browser, home_url: str):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for context in browser.contexts:
            for page in context.pages:
                if page.url.startswith(home_url):
                    return page
        time.sleep(0.05)
    raise RuntimeError("Chromium did not open the home page")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def median(samples: list[dict], key: str) -> float:
    return round(statistics.median(sample[key] for sample in samples), 3)


def main() -> int:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        return child(sys.argv[2], sys.argv[3])
    parser = argparse.ArgumentParser(description="Kiosk window against Chromium --kiosk, alternating launches.")
    parser.add_argument("--samples", type=int, default=5, help="launches of each side (default 5, at least 1)")
    arguments = parser.parse_args()
    if arguments.samples < 1:
        parser.error("--samples must be at least 1")
    from werkzeug.serving import make_server

    from kiosk.config import load_config
    from kiosk.shell import create_app

    import logging
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    xvfb, display = start_xvfb()
    service = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Service)
    threading.Thread(target=service.serve_forever, daemon=True).start()
    service_url = f"http://127.0.0.1:{service.server_port}/service"
    with tempfile.TemporaryDirectory(prefix="bench-window-") as tmp:
        work = Path(tmp)
        config_dir = write_config(work / "config", service_url, printer=None)
        shell = make_server("127.0.0.1", 0, create_app(load_config(config_dir)), threaded=True)
        threading.Thread(target=shell.serve_forever, daemon=True).start()
        kiosk_samples, chromium_samples = [], []
        try:
            for index in range(arguments.samples):  # alternating, so a change of load hits both sides
                kiosk_samples.append(bench_kiosk(display, config_dir, service_url, work / f"kiosk-{index}"))
                chromium_samples.append(bench_chromium(display, f"http://127.0.0.1:{shell.server_port}/",
                                                       work / f"chromium-{index}"))
        finally:
            shell.shutdown()
            service.shutdown()
            xvfb.terminate()
            xvfb.wait(timeout=10)
    wipes = [wipe for sample in kiosk_samples for wipe in sample["wipes"]]
    result = {"launch_s": median(kiosk_samples, "launch_s"), "wipe_s": round(statistics.median(wipes), 3),
              "pss_mb": median(kiosk_samples, "pss_mb"),
              "pss_after_10_sessions_mb": median(kiosk_samples, "pss_after_10_sessions_mb"),
              "chromium_launch_s": median(chromium_samples, "chromium_launch_s"),
              "launch_cpu_s": median(kiosk_samples, "launch_cpu_s"),
              "chromium_launch_cpu_s": median(chromium_samples, "chromium_launch_cpu_s"),
              "chromium_pss_mb": median(chromium_samples, "chromium_pss_mb"), "wipe_max_s": round(max(wipes), 3),
              "samples": arguments.samples,
              "launch_s_samples": [sample["launch_s"] for sample in kiosk_samples],
              "chromium_launch_s_samples": [sample["chromium_launch_s"] for sample in chromium_samples]}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
