"""Benchmark of the residents' home page, on the demo configuration.

Starts the real shell (`kiosk serve config/demo`, its own process, on loopback), loads the home page
in Debian's Chromium through Playwright, and prints one JSON line:

- tiles: tiles "à la une" on the home; all_services_tiles: distinct tiles reached through the pages
  of "Tous les services" (following "Suite");
- visible_tiles_1024x688_chromium(_largest_text): tiles "à la une" fully visible without scrolling in
  a 1024 × 688 Chromium viewport (1024 × 768 less the window's toolbar), at 100 % and 200 % text
  (the real-window figure, visible_tiles_1024x768, comes from the window's own bench);
- bytes: bytes of the home page and everything it loads (response bodies);
- requests / external_requests: requests made by the page, and those to any other host than the shell;
- server_ms_median: median time of 200 GET / (client-measured over loopback: connect, send, read the
  whole answer; one fresh connection per request), with server_ms_p95;
- baseline_static_ms_median: the same measure for a small static file of the same server (the floor
  of this server and client, side by side in the same run);
- visible_tiles_1024x768 / visible_tiles_1024x768_largest: "à la une" tiles (``[data-featured-tile]``)
  fully visible without scrolling in the REAL kiosk window (``kiosk run``'s path, toolbar included)
  on a 1024x768 Xvfb, at normal text and at the largest text size (tests/window/screen_probe.py);
  featured_tiles_1024x768: how many featured tiles the home has.

The shell's connectivity check is pointed at a loopback check server (KIOSK_SHELL_PROBE_*), so the page
is the "online" one and nothing leaves the machine.

Targets (issues 2 and 10): tiles >= 6 (≥ 4 at the largest text), all_services_tiles >= 20,
external_requests = 0, bytes <= 150000, server_ms_median <= 20; in the real window at 1024×768:
visible_tiles_1024x768 >= 6, visible_tiles_1024x768_largest >= 4.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from connectivity_check import ConnectivityCheck  # noqa: E402  (a loopback check server the shell trusts)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SAMPLES = 200


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_shell(port: int, probe_port: int) -> subprocess.Popen:
    # The connectivity check aims at a loopback server answering what the shell expects: the page
    # renders "online" (every tile active) without this benchmark reaching beyond the machine.
    # in_kiosk_window: the pages as the kiosk window shows them (its toolbar has Accueil and the text sizes).
    environ = {**os.environ, "KIOSK_SHELL_PROBE_HOST": "127.0.0.1", "KIOSK_SHELL_PROBE_PORT": str(probe_port),
               "KIOSK_SHELL_IN_KIOSK_WINDOW": "true"}
    process = subprocess.Popen(
        [sys.executable, "-m", "kiosk.cli", "serve", str(REPO / "config" / "demo"), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=REPO, env=environ)
    line = process.stdout.readline()
    if "servi sur" not in line:
        process.kill()
        raise SystemExit(f"the shell did not start: {line!r}")
    return process


def timed_get(port: int, path: str) -> float:
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        answer = connection.getresponse()
        answer.read()
        if answer.status != 200:
            raise SystemExit(f"GET {path} answered {answer.status}")
    finally:
        connection.close()
    return (time.perf_counter() - started) * 1000


def median_ms(port: int, path: str) -> tuple[float, float]:
    for _ in range(10):  # warm-up (first probe, template compilation)
        timed_get(port, path)
    samples = sorted(timed_get(port, path) for _ in range(SAMPLES))
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def load_in_chromium(base: str) -> dict:
    from playwright.sync_api import sync_playwright

    own = urlsplit(base).netloc
    requests: list[str] = []
    sizes: list[int] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.on("request", lambda request: requests.append(request.url))
            page.on("response", lambda response: sizes.append(len(response.body()) if response.ok else 0))
            page.goto(base, wait_until="networkidle")
            tiles = page.locator("[data-featured-tile]").count()
            home_requests, home_bytes = len(requests), sum(sizes)
            all_tiles = services_reached(page, base)
            visible = {}
            for label, size in (("normal", "normal"), ("largest", "maximal")):
                context = browser.new_context(viewport={"width": 1024, "height": 768 - 80})
                try:
                    visible[label] = visible_featured_tiles(context.new_page(), base, size)
                finally:
                    context.close()
        finally:
            browser.close()
    external = [url for url in requests if urlsplit(url).netloc != own]
    return {"tiles": tiles, "all_services_tiles": all_tiles, "bytes": home_bytes, "requests": home_requests,
            "external_requests": len(external),
            "visible_tiles_1024x688_chromium": visible["normal"],
            "visible_tiles_1024x688_chromium_largest_text": visible["largest"]}


def services_reached(page, base: str) -> int:
    """Distinct tiles reached by following "Suite" through the pages of "Tous les services"."""
    page.goto(base + "services")
    seen: set[str] = set()
    while True:
        seen.update(page.locator(".tuile").evaluate_all("tiles => tiles.map(tile => tile.dataset.tuile)"))
        following = page.locator("[data-page-suivante]")
        if following.count() == 0:
            return len(seen)
        with page.expect_navigation():
            following.click()


def visible_featured_tiles(page, base: str, size: str) -> int:
    """Tiles "à la une" fully inside a 1024 × 688 viewport (1024 × 768 less the window's toolbar)."""
    page.goto(base)
    with page.expect_navigation():
        page.evaluate("""size => { const form = document.createElement('form'); form.method = 'post';
            form.action = '/affichage'; const input = document.createElement('input'); input.name = 'texte';
            input.value = size; form.appendChild(input); document.body.appendChild(form); form.submit(); }""", size)
    page.goto(base)
    return page.evaluate("""() => [...document.querySelectorAll('[data-featured-tile]')].filter(tile => {
        const box = tile.getBoundingClientRect();
        return box.top >= 0 && box.left >= 0 && box.bottom <= innerHeight && box.right <= innerWidth; }).length""")


def visible_tiles_in_the_window(width: int = 1024, height: int = 768) -> dict:
    """Run the window probe on an Xvfb of that size; count featured tiles fully in the visible area."""
    import tempfile

    read, write = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp"],
                            pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write)
    with os.fdopen(read) as pipe:
        display = ":" + pipe.readline().strip()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-home-") as work:
            done = subprocess.run([sys.executable, str(REPO / "tests" / "window" / "screen_probe.py"),
                                   str(REPO / "config" / "demo"), work, "--cases", "home"],
                                  env={**os.environ, "DISPLAY": display}, capture_output=True, text=True, timeout=600)
    finally:
        xvfb.terminate()
        xvfb.wait(timeout=10)
    cases = {record["case"]: record for record in map(json.loads, filter(lambda line: line.startswith("{"),
                                                                          done.stdout.splitlines()))}
    if "DONE" not in cases:
        raise SystemExit(f"the window probe failed: {done.stdout[-2000:]} {done.stderr[-2000:]}")

    def visible(case: str) -> int:
        page = cases[case]["page"]
        return sum(1 for left, top, right, bottom in page["tiles"]
                   if left >= 0 and top >= 0 and right <= page["width"] and bottom <= page["height"])

    suffix = f"{width}x{height}"
    return {f"visible_tiles_{suffix}": visible("normal-plain"), f"visible_tiles_{suffix}_largest": visible("largest-plain"),
            f"featured_tiles_{suffix}": len(cases["normal-plain"]["page"]["tiles"])}


def main() -> int:
    port = free_port()
    check = ConnectivityCheck.start("online")
    process = start_shell(port, check.port)
    try:
        page = load_in_chromium(f"http://127.0.0.1:{port}/")
        home_median, home_p95 = median_ms(port, "/")
        static_median, _ = median_ms(port, "/static/favicon.svg")
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()
        check.stop()
    window = visible_tiles_in_the_window()
    result = {
        **page,
        "server_ms_median": round(home_median, 2),
        "server_ms_p95": round(home_p95, 2),
        "baseline_static_ms_median": round(static_median, 2),
        "server_ms_method": f"client-measured over loopback, {SAMPLES} GET / on fresh connections",
        **window,
        "targets_met": page["tiles"] >= 6 and page["all_services_tiles"] >= 20 and page["external_requests"] == 0
                       and page["bytes"] <= 150000 and home_median <= 20
                       and window["visible_tiles_1024x768"] >= 6
                       and window["visible_tiles_1024x768_largest"] >= 4,
    }
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
