"""Say what really went wrong, in the real window: no Internet, a portal asking for something, or one
service not answering (refused, TLS, 503, no answer, name not found), each with its own shell page;
and pages that misbehave: a PDF, endless memory, a heavy page that is slow to load."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from trouble_sites import start_tls_site, start_trouble_site, stop

pytestmark = pytest.mark.window
HERE = Path(__file__).resolve().parent
NNBSP = "\u202f"


@pytest.fixture(scope="module")
def trouble():
    server = start_trouble_site()
    yield server
    stop(server)


@pytest.fixture(scope="module")
def tls_site(tmp_path_factory):
    server = start_tls_site(tmp_path_factory.mktemp("tls"))
    yield server
    stop(server)


@pytest.fixture
def refused_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        return f"http://127.0.0.1:{sock.getsockname()[1]}/service"


def problem_page(driver, url: str, timeout: float = 20) -> dict:
    """Open ``url`` as a tile would and read the shell page the window shows instead."""
    driver.kiosk.view.load_uri(url)
    shell = driver.kiosk.shell_origin
    driver.wait(lambda: driver.url().startswith(shell + "/injoignable") and not driver.kiosk.view.is_loading(),
                timeout, f"the shell's page instead of {url}")
    driver.pump(0.3)
    return driver.js("""({
        kind: document.querySelector('[data-probleme]').dataset.probleme,
        title: document.querySelector('h1').textContent.trim(),
        lead: document.querySelector('.chapo').textContent.trim(),
        online: document.documentElement.dataset.enLigne,
        header: [...document.querySelectorAll('.connexion span')].filter((e) => e.offsetParent !== null)
                   .map((e) => e.textContent.trim()).filter(Boolean).join(' '),
        detail: (document.querySelector('.detail-technique') || {textContent: ''}).textContent.trim(),
        buttons: [...document.querySelectorAll('.actions a')].map((a) => [a.textContent.trim(), a.href]),
    })""")


def assert_three_buttons(page: dict, driver, retry: str) -> None:
    shell = driver.kiosk.shell_origin
    assert [label for label, _ in page["buttons"]] == ["Réessayer", "Aide", "Accueil"]
    assert page["buttons"][0][1] == retry
    assert page["buttons"][2][1] == shell + "/"


def test_refused_connection_names_the_service(driver, refused_url):
    page = problem_page(driver, refused_url)
    assert page["kind"] == "service"
    assert page["title"] == "Le site de test ne répond pas pour le moment"
    assert page["lead"] == "Ce n’est pas de votre faute. Vous pouvez réessayer, ou essayer plus tard."
    assert page["online"] == "oui" and page["header"] == "Connecté à Internet"
    assert page["detail"] == f"Pour la personne qui vous aide{NNBSP}: le site a refusé la connexion."
    assert_three_buttons(page, driver, refused_url)
    driver.screenshot("error-service")


def test_tls_failure_is_the_service_not_internet(driver, tls_site):
    page = problem_page(driver, tls_site.base + "/service")
    assert page["kind"] == "service" and "(certificat)" in page["detail"], page
    assert page["online"] == "oui"


def test_server_error_503_is_the_service_with_its_code(driver, trouble):
    url = trouble.base + "/panne"
    page = problem_page(driver, url)
    assert page["kind"] == "service" and page["detail"].endswith("le site signale une panne (erreur 503)."), page
    assert "Service Unavailable" not in driver.js("document.body.textContent")
    assert_three_buttons(page, driver, url)


def test_a_service_that_never_answers_is_stopped_and_named(driver, trouble):
    started = time.monotonic()
    page = problem_page(driver, trouble.base + "/silence", timeout=30)
    assert page["kind"] == "service" and "trop de temps" in page["detail"], page
    assert time.monotonic() - started >= driver.kiosk.settings.load_timeout_s


@pytest.mark.parametrize("mode, kind, title", [
    ("portal", "portail", "La connexion Internet demande une action"),
    ("offline", "hors-ligne", "Internet ne fonctionne pas pour le moment"),
], ids=["captive-portal", "no-internet"])
def test_portal_and_no_internet_each_get_their_own_page_and_header(driver, connectivity, refused_url,
                                                                    mode, kind, title):
    connectivity.mode = mode
    page = problem_page(driver, refused_url)
    assert page["kind"] == kind, page
    assert page["title"] == title
    assert page["online"] == "non" and page["header"] == "Pas de connexion Internet"
    assert_three_buttons(page, driver, refused_url)
    driver.screenshot(f"error-{mode}")


def test_name_not_found_for_one_host_while_the_internet_works(xvfb, tmp_path, connectivity):
    """The kiosk runs in a child process inside its own mount namespace where /etc/nsswitch.conf says
    "hosts: files" and /etc/resolv.conf points at 127.0.0.1: the name is looked up in no DNS server
    at all, nothing leaves the machine. The connectivity check (127.0.0.1, no name) answers "online"."""
    connectivity.mode = "online"  # whatever an earlier test of the module left
    if os.geteuid() != 0 and subprocess.run(["unshare", "--user", "--map-root-user", "true"]).returncode != 0:
        pytest.skip("no mount namespace available (unshare)")
    (tmp_path / "nsswitch.conf").write_text("hosts: files\n")
    (tmp_path / "resolv.conf").write_text("nameserver 127.0.0.1\noptions attempts:1 timeout:1\n")
    unshare = ["unshare", "--mount", "--propagation", "private"]
    if os.geteuid() != 0:
        unshare[1:1] = ["--user", "--map-root-user"]
    script = (f"mount --bind {tmp_path}/nsswitch.conf /etc/nsswitch.conf && "
              f"mount --bind {tmp_path}/resolv.conf /etc/resolv.conf && exec \"$@\"")
    command = [*unshare, "sh", "-c", script, "sh", sys.executable, str(HERE / "dns_failure_harness.py"),
               str(tmp_path / "config"), str(connectivity.port)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=180,
                            env={**os.environ, "DISPLAY": xvfb})
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-4000:]
    shown = result.stdout.strip().splitlines()[-1]
    assert "/injoignable?" in shown and "cause=dns" in shown and "hote=impots-test.invalid" in shown, shown
    assert "data-probleme=service" in shown and "Le site de test ne répond pas pour le moment" in shown, shown


# ---------------------------------------------------------------- pages that misbehave

def test_pdf_link_shows_the_kiosk_document_view_not_webkit_viewer(driver, trouble):
    driver.load(trouble.base + "/lien-pdf")
    driver.click_page_centre()
    shell = driver.kiosk.shell_origin
    driver.wait(lambda: driver.url().startswith(shell + "/documents/voir/") and not driver.kiosk.view.is_loading(),
                15, "the kiosk's document view")
    assert driver.url() == shell + "/documents/voir/avis.pdf"
    assert [document.name for document in driver.kiosk.documents.documents()] == ["avis.pdf"]
    pages = driver.js("document.querySelectorAll('main img').length")
    assert pages == 2  # the two pages as images, from the shell; no viewer toolbar
    driver.screenshot("pdf-document-view")


def test_pdf_without_extension_is_kept_as_a_pdf(driver, trouble):
    driver.kiosk.view.load_uri(trouble.base + "/voir?id=3")
    shell = driver.kiosk.shell_origin
    driver.wait(lambda: driver.url().startswith(shell + "/documents/voir/") and not driver.kiosk.view.is_loading(),
                15, "the kiosk's document view")
    assert [document.name for document in driver.kiosk.documents.documents()] == ["voir.pdf"]


def web_processes() -> list[psutil.Process]:
    found = []
    for child in psutil.Process().children(recursive=True):
        try:  # a child may end between the listing and this look (the limit ends web processes)
            if child.name().startswith("WebKitWebProces"):
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


def test_endless_memory_ends_the_web_process_and_home_is_back(driver, trouble):
    # The window's own setting (not imported from conftest: with tests/shell in the same run, "conftest"
    # may name tests/shell/conftest.py).
    limit_mb = driver.kiosk.settings.web_memory_limit_mb
    assert limit_mb

    peak, stop_guard = [0], threading.Event()

    def guard():  # the test's own bound: never let a failing limit take the machine down
        while not stop_guard.is_set():
            for process in web_processes():
                try:
                    rss = process.memory_info().rss
                except psutil.Error:
                    continue
                peak[0] = max(peak[0], rss)
                if rss > 3 * limit_mb * 2**20:
                    process.kill()
            time.sleep(0.1)

    watcher = threading.Thread(target=guard, daemon=True)
    watcher.start()
    earlier = len(driver.events())
    try:
        driver.load(trouble.base + "/gouffre")
        driver.wait(lambda: "crash_recovered" in [event["kind"] for event in driver.events()[earlier:]], 60,
                    "the web process to be ended at its memory limit")
        driver.wait(lambda: driver.url() == driver.kiosk.home and not driver.kiosk.view.is_loading(), 20,
                    "the home screen")
    finally:
        stop_guard.set()
        watcher.join(2)
    assert peak[0] < 3 * limit_mb * 2**20, f"peak {peak[0] >> 20} MiB: the limit did not act"
    print(f"endless allocation: web process peak {peak[0] >> 20} MiB, limit {limit_mb} MiB")
    started = time.monotonic()
    assert driver.js("1 + 1") == 2  # the new web process answers at once: the machine is responsive
    assert time.monotonic() - started < 2
    driver.assert_locked()


def test_slow_heavy_page_is_not_killed_while_it_loads(driver, trouble):
    settings = driver.kiosk.settings
    assert 4.0 > settings.hang_timeout_s  # each busy script of the page outlasts the hang timeout
    watch, longest_silence = driver.kiosk.watch, [0.0]

    def loaded() -> bool:
        if watch.ping_sent is not None:  # how long the busy web process left a ping unanswered
            longest_silence[0] = max(longest_silence[0], time.monotonic() - watch.ping_sent)
        return not driver.kiosk.view.is_loading() and driver.url() == trouble.base + "/lourde"

    earlier = len(driver.events())
    started = time.monotonic()
    driver.kiosk.view.load_uri(trouble.base + "/lourde")
    driver.wait(loaded, 150, "the heavy page to finish loading")
    took = time.monotonic() - started
    assert driver.js("document.getElementById('fin') !== null") is True
    assert "crash_recovered" not in [event["kind"] for event in driver.events()[earlier:]]
    # The page really kept the web process silent longer than a frozen page is allowed once loaded.
    assert longest_silence[0] > settings.hang_timeout_s, longest_silence
    print(f"heavy page loaded in {took:.1f} s; web process silent for up to {longest_silence[0]:.1f} s "
          f"(hang timeout {settings.hang_timeout_s} s)")
