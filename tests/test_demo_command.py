"""The README's run command: the demo kiosk is served, and a local fleet server with a fresh login sees it."""

import http.cookiejar
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _read_until(process, pattern, lines, timeout_s=60):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            raise AssertionError("the demo stopped early:\n" + "".join(lines))
        lines.append(line)
        match = re.search(pattern, line)
        if match:
            return match
    raise AssertionError("timed out waiting for " + pattern)


def test_demo_serves_the_home_page_and_its_fleet_server_lists_the_demo_kiosk(tmp_path):
    env = {key: value for key, value in __import__("os").environ.items() if key not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["KIOSK_SHELL_PROBE_HOST"], env["KIOSK_SHELL_PROBE_PORT"] = "127.0.0.1", "9"
    demo = subprocess.Popen([sys.executable, str(REPO / "scripts" / "demo.py"), "--state", str(tmp_path),
                             "--port", str(_free_port()), "--fleet-port", str(_free_port())],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    lines: list[str] = []
    try:
        dashboard = _read_until(demo, r"Tableau de bord du parc : (http://127\.0\.0\.1:\d+/tableau/)", lines).group(1)
        password = _read_until(demo, r"identifiant : demo\s+mot de passe : (\S+)", lines).group(1)
        home = _read_until(demo, r"servi sur (http://127\.0\.0\.1:\d+/)", lines).group(1)

        page = urllib.request.urlopen(home, timeout=10).read().decode()
        assert page.count('data-featured-tile=') == 8  # the demo's tiles « à la une »
        assert "data-all-services" in page  # the other services, one button away
        assert "Bagnères-de-Luchon" in page

        jar = http.cookiejar.CookieJar()
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        response = browser.open(dashboard, timeout=10)  # redirected to the login form, which posts to itself
        target, login_page = response.geturl(), response.read().decode()
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', login_page).group(1)
        form = urllib.parse.urlencode({"csrf_token": token, "username": "demo", "password": password}).encode()
        browser.open(target, data=form, timeout=10)
        deadline = time.monotonic() + 60
        overview = ""
        while time.monotonic() < deadline and "DEMO-0001" not in overview:
            overview = browser.open(dashboard, timeout=10).read().decode()
            time.sleep(1)
        assert "DEMO-0001" in overview, "the demo kiosk never checked in to the demo fleet server"
        children = psutil.Process(demo.pid).children(recursive=True)
        assert len(children) >= 3  # fleet server, agent, shell
    finally:
        demo.send_signal(signal.SIGTERM)
        demo.wait(timeout=30)
        demo.stdout.close()
    assert all(not child.is_running() or child.status() == psutil.STATUS_ZOMBIE for child in children)
