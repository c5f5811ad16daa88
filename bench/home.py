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
  of this server and client, side by side in the same run).

The shell's connectivity probe is pointed at a loopback socket (KIOSK_SHELL_PROBE_*), so the page
is the "online" one and nothing leaves the machine.

Targets (issues 2 and 10): tiles >= 6 (≥ 4 at the largest text), all_services_tiles >= 20,
external_requests = 0, bytes <= 150000, server_ms_median <= 20.
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
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SAMPLES = 200


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_shell(port: int, probe_port: int) -> subprocess.Popen:
    # The connectivity probe aims at a loopback socket that accepts: the page renders "online"
    # (every tile active) without this benchmark reaching beyond the machine.
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


def main() -> int:
    port = free_port()
    probe_target = socket.socket()
    probe_target.bind(("127.0.0.1", 0))
    probe_target.listen(64)
    process = start_shell(port, probe_target.getsockname()[1])
    try:
        page = load_in_chromium(f"http://127.0.0.1:{port}/")
        home_median, home_p95 = median_ms(port, "/")
        static_median, _ = median_ms(port, "/static/favicon.svg")
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()
        probe_target.close()
    result = {
        **page,
        "server_ms_median": round(home_median, 2),
        "server_ms_p95": round(home_p95, 2),
        "baseline_static_ms_median": round(static_median, 2),
        "server_ms_method": f"client-measured over loopback, {SAMPLES} GET / on fresh connections",
        "targets_met": page["tiles"] >= 6 and page["all_services_tiles"] >= 20 and page["external_requests"] == 0
                       and page["bytes"] <= 150000 and home_median <= 20
                       and page["visible_tiles_1024x688_chromium"] >= 6
                       and page["visible_tiles_1024x688_chromium_largest_text"] >= 4,
    }
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
