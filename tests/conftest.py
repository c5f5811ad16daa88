"""Fixtures shared by the whole suite: loopback ports, loopback servers, test configurations, Chromium.

- ``closed_port`` / ``listening_port``: a loopback port where nothing listens / where a connectivity
  check answers as expected (point the shell's connectivity probe at them to be offline / online;
  ``tests/connectivity_check.py`` also answers like a captive portal).
- ``serve_wsgi(app)``: serve any WSGI app (the shell, the fleet server...) on a free loopback port in a
  thread; returns its base URL ("http://127.0.0.1:PORT/"); stopped at the end of the test.
- ``local_site``: a plain HTTP site on loopback that tiles can point at.
- ``service_entry(id, url, ...)`` and ``make_kiosk_config([services], **site)``: write a complete configuration directory under tmp_path
  (catalog + kiosk.yaml + the catalog's pictograms) and return its path.
- ``shell_url``: the shell on config/demo, offline, served on loopback.
- ``browser`` (session) and ``page``: Debian's Chromium driven by Playwright (sync API).

Scheduling: tests marked ``system`` run last (``./dev test`` runs them in a process of their own).
"""

from __future__ import annotations

import http.server
import shutil
import socket
import threading
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
DEMO_DIR = REPO_ROOT / "config" / "demo"
CATALOG_PICTOGRAMS = REPO_ROOT / "config" / "pictograms"
ARTIFACTS_DIR = REPO_ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]


# The system tests' first test also waits for its root filesystem (built in the background by
# `./dev test`, or built then) and for two playbook runs; each of those has its own time limit
# (debian_rootfs, provision_runs.RUN_TIMEOUT_S), this one only stops a test that hangs.
SYSTEM_TEST_TIMEOUT_S = 7200


def pytest_configure(config):
    """Wall and CPU per module, printed at the end of the run (tests/cpu_timing.py); the cheapest
    argon2id for the staff passwords hashed and checked in this process."""
    from cpu_timing import CpuTiming

    if not config.pluginmanager.has_plugin("cpu_timing"):
        config.pluginmanager.register(CpuTiming(), "cpu_timing")
    use_cheap_password_hashing()


def use_cheap_password_hashing() -> None:
    """Staff passwords in this process are hashed with argon2id at its lowest cost (1 pass over 8 KiB,
    one lane) instead of the RFC 9106 low-memory profile (3 passes over 64 MiB, 4 lanes: 0.3 s of CPU
    and up to 2 s on a loaded machine for every account made and every login, hundreds in the suite).
    Every other step is the real one (argon2id hashes in the database, verification, rehash); that the
    fleet server itself uses the RFC 9106 profile is checked in a process of its own
    (tests/dashboard/test_accounts.py), and the servers the tests start as processes keep it."""
    from argon2 import PasswordHasher

    from provisioning.fleet.accounts import passwords, store

    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    store._DUMMY_HASH = passwords.hash_password("not-a-real-account-password")


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Scheduling: the system tests (real Debian root filesystems) run after the others, in their
    collected order (grouped by release), so that a run of several folders gives the quick answers
    first; they get the longer time limit above unless they set their own."""
    system = [item for item in items if item.get_closest_marker("system")]
    if not system:
        return
    for item in system:
        if item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(SYSTEM_TEST_TIMEOUT_S))
    chosen = set(map(id, system))
    items[:] = [item for item in items if id(item) not in chosen] + system


@pytest.fixture
def closed_port() -> int:
    """A loopback TCP port with nothing listening (connections are refused at once)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def listening_port():
    """A loopback port where the connectivity check answers what the shell's default settings expect."""
    from connectivity_check import ConnectivityCheck

    check = ConnectivityCheck.start("online")
    yield check.port
    check.stop()


@pytest.fixture
def serve_wsgi():
    import logging

    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request in test reports
    servers = []

    def serve(app) -> str:
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, name="test-wsgi", daemon=True)
        thread.start()
        servers.append((server, thread))
        return f"http://127.0.0.1:{server.server_port}/"

    def stop_all() -> None:
        """Stop serving (a fixture calls it before disposing of an engine its app uses, so that no
        request still being served takes a new connection from the disposed pool)."""
        while servers:
            server, thread = servers.pop()
            server.shutdown()
            relay = server.app.extensions.get("assist_relay") if hasattr(server.app, "extensions") else None
            if relay is not None:  # a kiosk's long poll may be waiting: it answers now, before the store goes
                relay.stop()
            server.server_close()
            thread.join(timeout=5)

    serve.stop_all = stop_all
    yield serve
    stop_all()


class _SitePage(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's naming)
        body = (f'<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Site de test</title></head>'
                f'<body><h1>Site de test</h1><p id="chemin">{self.path}</p></body></html>').encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # keep test output quiet
        pass


@pytest.fixture
def local_site():
    """A plain web site on loopback ("Site de test"); its pages show their own path in #chemin."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _SitePage)
    thread = threading.Thread(target=server.serve_forever, name="test-site", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


DEFAULT_HELP = {
    "mediator": {"name": "Claire, médiatrice numérique", "phone": "05 36 49 12 34", "hours": {"mo": ["09:00-12:00"], "th": ["14:00-17:00"]}},
    "bus_visits": [],
    "france_services": {"name": "France services de test", "address": "1 place de la Mairie, 31110 Testville",
                        "phone": "05 36 49 56 78", "hours": "le mardi matin"},
    "printed_guides": ["Guide de test"],
}


def catalog_service(tile_id: str, url: str, *, label: str | None = None, category: str = "sante",
                    pictogram: str = "sante.svg", hosts: list[str] | None = None) -> dict:
    """One catalog service for a test configuration (hosts default to the URL's host)."""
    from kiosk.hosts import url_host

    return {"id": tile_id, "label": label or f"Service {tile_id}", "description": f"Le service {tile_id} pour les tests.",
            "category": category, "url": url, "pictogram": pictogram, "pictogram_alt": f"Pictogramme de {tile_id}",
            "hosts": hosts or [url_host(url)]}


@pytest.fixture
def service_entry():
    """``service_entry(id, url, label=..., category=..., pictogram=..., hosts=...)`` -> a catalog service."""
    return catalog_service


@pytest.fixture
def make_kiosk_config(tmp_path):
    """Write a configuration directory (catalog + kiosk.yaml + pictograms) and return its path."""
    counter = iter(range(1000))

    def make(tiles: list[dict], *, categories: list[dict] | None = None, **site) -> Path:
        directory = tmp_path / f"config-{next(counter)}"
        (directory / "pictograms").mkdir(parents=True)
        for tile in tiles:
            shutil.copy(CATALOG_PICTOGRAMS / tile["pictogram"], directory / "pictograms" / tile["pictogram"])
        catalog = {
            "version": 1,
            "categories": categories or [{"id": "sante", "label": "Santé"}, {"id": "impots", "label": "Impôts"},
                                         {"id": "commune", "label": "Ma commune"}],
            "services": tiles,
        }
        kiosk = {
            "commune": {"name": "Testville", "insee": "31042", "postal_code": "31110",
                        "address": "Mairie, 1 place de la Mairie, 31110 Testville"},
            "help": DEFAULT_HELP,
            "tiles": [{"service": tile["id"]} for tile in tiles],
        }
        kiosk.update(site)
        (directory / "services.yaml").write_text(yaml.safe_dump(catalog, allow_unicode=True, sort_keys=False))
        (directory / "kiosk.yaml").write_text(yaml.safe_dump(kiosk, allow_unicode=True, sort_keys=False))
        return directory

    return make


@pytest.fixture(scope="session")
def demo_config():
    from kiosk.config import load_config

    return load_config(DEMO_DIR)


@pytest.fixture
def shell_url(demo_config, serve_wsgi, closed_port):
    """The shell on the demo configuration, served on loopback, with no Internet (probe refused)."""
    from kiosk.shell import ShellSettings, create_app

    return serve_wsgi(create_app(demo_config, settings=ShellSettings(probe_host="127.0.0.1", probe_port=closed_port)))


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Debian's Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    return ARTIFACTS_DIR
