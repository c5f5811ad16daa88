"""The dashboard in Debian's Chromium (Playwright): log in, overview, filter, machine page, usage page,
CSV download; and an axe-core audit of every page with no serious or critical violation."""

from __future__ import annotations

import csv
import io

import pytest
from axe_playwright_python.sync_playwright import Axe

from dashboard_helpers import LUCHON

pytestmark = pytest.mark.browser
BLOCKING = {"serious", "critical"}


@pytest.fixture(scope="module")
def axe() -> Axe:
    return Axe()


@pytest.fixture
def dashboard_url(fresh_sqlite, serve_wsgi) -> str:
    return serve_wsgi(fresh_sqlite.app).rstrip("/")


def log_in(page, base: str, username: str, password: str) -> None:
    page.goto(base + "/tableau/")
    assert page.url.startswith(base + "/connexion")
    page.get_by_label("Identifiant").fill(username)
    page.get_by_label("Mot de passe").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Se connecter").click()


def blocking_violations(axe: Axe, page) -> list[str]:
    results = axe.run(page, options={"resultTypes": ["violations"]})
    return [f"{item['id']} ({item['impact']}): {[node['target'] for node in item['nodes']][:3]}"
            for item in results.response["violations"] if item["impact"] in BLOCKING]


def test_staff_journey_login_overview_filter_machine_usage_and_csv(page, dashboard_url, fresh_sqlite, tmp_path):
    log_in(page, dashboard_url, "staff", fresh_sqlite.passwords["staff"])
    assert page.get_by_role("heading", level=1).inner_text() == "Le parc"
    assert page.locator("table.machines tbody tr").count() == 3

    page.get_by_label("État").select_option("late")
    with page.expect_navigation():
        page.get_by_role("button", name="Filtrer").click()
    assert "statut=late" in page.url
    assert page.locator("table.machines tbody tr").count() == 1
    assert page.locator("table.machines").inner_text().count("LUCH-002") == 1

    with page.expect_navigation():
        page.get_by_role("link", name="LUCH-002").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Machine LUCH-002"
    assert page.get_by_role("img", name="Disque utilisé, maximum du jour (%)").count() == 1

    with page.expect_navigation():
        page.get_by_role("link", name="Utilisation").click()
    assert page.get_by_role("heading", name="Sessions par commune").count() == 1
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Télécharger « Sessions par commune » (CSV)").click()
    target = tmp_path / "sessions.csv"
    download_info.value.save_as(target)
    text = target.read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))  # text cells are quoted (exports/csvfile.py)
    assert rows[0] == ["Code INSEE", "Commune", "Sessions", "Pages imprimées"]
    assert [LUCHON, "Bagnères-de-Luchon", "15", "6"] in rows
    assert f'"{LUCHON}";"Bagnères-de-Luchon";15;6' in text     # counts are bare numbers


def test_a_commune_account_sees_its_own_machines_only_in_the_browser(page, dashboard_url, fresh_sqlite):
    log_in(page, dashboard_url, "commune", fresh_sqlite.passwords["commune"])
    assert page.locator("table.machines tbody tr").count() == 2
    assert "LOUR" not in page.content()
    response = page.goto(dashboard_url + "/tableau/machines/LOUR-001")
    assert response.status == 404
    assert "LOUR-001" not in page.content()


@pytest.mark.parametrize("text", ["100%", "200%"])
def test_no_serious_accessibility_violation_on_any_page(page, dashboard_url, fresh_sqlite, axe, text):
    page.goto(dashboard_url + "/connexion")
    found = {}
    if violations := blocking_violations(axe, page):
        found["/connexion"] = violations
    from test_callbacks import deliver
    deliver(fresh_sqlite)  # the call-back inbox with one request and its form
    log_in(page, dashboard_url, "admin", fresh_sqlite.passwords["admin"])
    for path in ("/tableau/rappels", "/tableau/", "/tableau/?statut=late", "/tableau/machines/LUCH-001", "/tableau/usage",
                 "/tableau/usage?par=month", "/tableau/rapport", "/tableau/communes", f"/tableau/communes/{LUCHON}",
                 "/tableau/materiel", "/tableau/exports", "/tableau/alertes", "/tableau/comptes",
                 "/mot-de-passe-oublie", "/tableau/nulle-part"):
        page.goto(dashboard_url + path)
        page.evaluate(f"document.documentElement.style.fontSize = '{text}'")
        if violations := blocking_violations(axe, page):
            found[path] = violations
    assert found == {}


def test_the_dashboard_works_at_320_pixels(page, dashboard_url, fresh_sqlite):
    page.set_viewport_size({"width": 320, "height": 640})
    log_in(page, dashboard_url, "admin", fresh_sqlite.passwords["admin"])
    page_width = page.evaluate("document.documentElement.scrollWidth")
    assert page_width <= 330


@pytest.mark.parametrize("name, path", [("overview", "/tableau/"), ("machine", "/tableau/machines/LUCH-002"),
                                        ("usage", "/tableau/usage?par=month"), ("report", "/tableau/rapport")])
def test_screenshots_of_the_staff_pages_at_1280_by_800(page, dashboard_url, fresh_sqlite, artifacts_dir, name, path):
    """Kept in test-artifacts/dashboard/ for review (issue 16). The machine page stays short: its actions come
    first and its 90-row tables are folded."""
    from provisioning.fleet.dashboard.followup_queries import record_statuses
    with fresh_sqlite.app.extensions["fleet_engine"].begin() as conn:
        record_statuses(conn, __import__("time").time())
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in(page, dashboard_url, "staff", fresh_sqlite.passwords["staff"])
    page.goto(dashboard_url + path)
    target = artifacts_dir / "dashboard"
    target.mkdir(exist_ok=True)
    page.screenshot(path=str(target / f"{name}-1280x800.png"))
    page.screenshot(path=str(target / f"{name}-full.png"), full_page=True)
    height = page.evaluate("document.documentElement.scrollHeight")
    assert height < 4500, f"{path} is {height} px tall"
    assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    if name == "machine":
        assert page.get_by_role("button", name="Enregistrer la note").is_visible()
        assert page.get_by_role("img", name="État de la machine sur 90 jours").is_visible()
