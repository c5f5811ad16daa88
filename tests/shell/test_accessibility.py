"""axe-core (axe-playwright-python) on every shell page, at 100% and 200% text (the shell's own text
size setting), in both display modes: no violation at all, whatever its impact (minor included)."""

from __future__ import annotations

import pytest
from axe_playwright_python.sync_playwright import Axe

pytestmark = pytest.mark.browser

PAGES = ["", "services", "services?page=2", "aide", "aide/rappel", "non-autorise?hote=www.exemple.fr", "session-terminee",
         "hors-ligne?tuile=impots", "nulle-part", "injoignable?hote=www.impots.gouv.fr&cause=serveur&code=503"]
TEXT_SIZES = {"100%": "Normal", "200%": "Le plus grand"}  # the shell's own setting (display.py)
BLOCKING = {"minor", "moderate", "serious", "critical"}  # every impact axe reports


@pytest.fixture(scope="module")
def axe() -> Axe:
    return Axe()


def blocking_violations(axe: Axe, page) -> list[str]:
    results = axe.run(page, options={"resultTypes": ["violations"]})
    return [f"{item['id']} ({item['impact']}): {[node['target'] for node in item['nodes']][:3]}"
            for item in results.response["violations"] if item["impact"] in BLOCKING]


@pytest.mark.parametrize("contrast", [False, True], ids=["usual", "high-contrast"])
@pytest.mark.parametrize("text", ["100%", "200%"])
def test_no_violation_on_any_page(page, shell_url, axe, text, contrast):
    page.goto(shell_url)
    if contrast:
        with page.expect_navigation():
            page.get_by_role("button", name="Contraste renforcé").click()
        assert page.evaluate("document.documentElement.classList.contains('contraste')")
    with page.expect_navigation():
        page.get_by_role("button", name=TEXT_SIZES[text], exact=True).click()
    root_px = 16 * int(text.rstrip("%")) / 100
    assert page.evaluate("parseFloat(getComputedStyle(document.documentElement).fontSize)") == root_px
    found = {}
    for path in PAGES:
        page.goto(shell_url + path)
        violations = blocking_violations(axe, page)
        if violations:
            found[path or "/"] = violations
    assert found == {}


def test_no_violation_online(page, demo_config, serve_wsgi, listening_port, axe):
    from kiosk.shell import ShellSettings, create_app

    url = serve_wsgi(create_app(demo_config, settings=ShellSettings(probe_host="127.0.0.1", probe_port=listening_port)))
    page.goto(url)
    assert page.get_by_text("Connecté à Internet").is_visible()
    assert blocking_violations(axe, page) == []
    page.goto(url + "injoignable?hote=www.impots.gouv.fr&cause=serveur&code=503")  # Internet works, one service does not
    assert page.get_by_text("Le site des impôts ne répond pas pour le moment").is_visible()
    assert blocking_violations(axe, page) == []


def test_the_audit_does_catch_problems(page, shell_url, axe):
    page.goto(shell_url)
    page.evaluate("""() => {
        const img = document.querySelector('.tuile-image'); img.removeAttribute('alt');
        document.querySelector('h1').style.color = '#b8b2a6'; }""")
    ids = " ".join(blocking_violations(axe, page))
    assert "image-alt" in ids and "color-contrast" in ids
