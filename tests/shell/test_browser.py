"""End to end in Debian's Chromium: what a resident sees and does on the shell."""

from __future__ import annotations

import socket

import pytest
from PIL import Image

from kiosk.config import load_config
from kiosk.shell import ShellSettings, create_app

pytestmark = pytest.mark.browser


@pytest.fixture
def two_tile_shell(make_kiosk_config, service_entry, local_site, serve_wsgi, listening_port):
    """An online shell whose two tiles lead to the loopback test site."""
    directory = make_kiosk_config([
        service_entry("premier", local_site + "premier/page?x=1", label="Premier service"),
        service_entry("second", local_site + "second", label="Second service", category="impots", pictogram="impots.svg"),
    ])
    settings = ShellSettings(probe_host="127.0.0.1", probe_port=listening_port)
    return serve_wsgi(create_app(load_config(directory), settings=settings)), local_site


def test_home_shows_exactly_the_featured_tiles_in_order(page, shell_url, demo_config):
    page.goto(shell_url)
    page.wait_for_function("[...document.images].every(image => image.complete)")  # a loaded machine is slow
    tiles = page.locator("a.tuile")
    assert tiles.evaluate_all("links => links.map(link => link.dataset.featuredTile)") == \
        [tile.id for tile in demo_config.featured_tiles()]
    page.locator("[data-all-services]").click()
    page.wait_for_url(shell_url + "services")
    assert page.locator("h2", has_text="Santé").is_visible()
    page.goto(shell_url)
    page.wait_for_function("[...document.images].every(image => image.complete)")
    sizes = tiles.evaluate_all("""links => links.map(link => ({
        height: link.getBoundingClientRect().height,
        label: parseFloat(getComputedStyle(link.querySelector('.tuile-nom')).fontSize),
        alt: link.querySelector('img').alt,
        loaded: link.querySelector('img').naturalWidth }))""")
    for size, tile in zip(sizes, demo_config.featured_tiles(), strict=True):
        assert size["height"] >= 80 and size["label"] >= 20, tile.id
        assert size["alt"] == tile.pictogram_alt.replace("'", "\u2019") and size["loaded"] > 0, tile.id


def test_a_tile_leads_to_its_url(page, two_tile_shell):
    shell, site = two_tile_shell
    page.goto(shell)
    page.get_by_role("link", name="Premier service").click()
    page.wait_for_url(site + "premier/page?x=1")
    assert page.locator("h1").inner_text() == "Site de test"


def test_help_page_content(page, shell_url, demo_config):
    page.goto(shell_url)
    page.get_by_role("link", name="Besoin d’aide\u202f?").click()
    page.wait_for_url(shell_url + "aide")
    main = page.locator("main")
    assert page.locator("h1").inner_text() == "Besoin d’aide\u202f?"
    for text in (demo_config.help.mediator.phone.replace(" ", "\u00a0"), demo_config.help.france_services.name,
                 demo_config.help.printed_guides[0], "Le bus numérique"):
        assert main.get_by_text(text, exact=False).first.is_visible(), text
    page.get_by_role("link", name="Revenir à l’accueil").click()
    page.wait_for_url(shell_url)


def test_text_size_and_contrast_controls(page, shell_url, browser):
    page.goto(shell_url)
    root_size = "parseFloat(getComputedStyle(document.documentElement).fontSize)"
    label_size = "parseFloat(getComputedStyle(document.querySelector('.tuile-nom')).fontSize)"
    assert page.evaluate(root_size) == 16
    normal_label = page.evaluate(label_size)
    with page.expect_navigation():
        page.get_by_role("button", name="Très grand").click()
    assert page.evaluate(root_size) == 24
    assert page.evaluate(label_size) == pytest.approx(normal_label * 1.5)
    assert page.get_by_role("button", name="Très grand").get_attribute("aria-pressed") == "true"
    with page.expect_navigation():
        page.get_by_role("button", name="Grand", exact=True).click()
    assert page.evaluate(root_size) == 20

    background = "getComputedStyle(document.body).backgroundColor"
    assert page.evaluate(background) != "rgb(0, 0, 0)"
    with page.expect_navigation():
        page.get_by_role("button", name="Contraste renforcé").click()
    assert page.url == shell_url
    assert page.evaluate(background) == "rgb(0, 0, 0)"
    assert page.get_by_role("button", name="Contraste renforcé").get_attribute("aria-pressed") == "true"
    page.goto(shell_url + "aide")  # the choice follows the resident to the other pages
    assert page.evaluate(background) == "rgb(0, 0, 0)" and page.evaluate(root_size) == 20

    fresh = browser.new_context()  # a new session (cookies wiped): the usual display again
    try:
        other = fresh.new_page()
        other.goto(shell_url)
        assert other.evaluate(root_size) == 16 and other.evaluate(background) != "rgb(0, 0, 0)"
    finally:
        fresh.close()


FOCUSED = """() => { const el = document.activeElement; const style = getComputedStyle(el);
  return { tag: el.tagName, cls: el.className, text: el.innerText,
           outline: style.outlineStyle, width: parseFloat(style.outlineWidth), top: el.getBoundingClientRect().top }; }"""


def test_keyboard_only_use(page, two_tile_shell):
    shell, site = two_tile_shell
    page.goto(shell)
    page.keyboard.press("Tab")
    focused = page.evaluate(FOCUSED)
    assert focused["text"] == "Aller au contenu" and focused["top"] >= 0  # the skip link shows itself
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "contenu"
    page.keyboard.press("Tab")
    focused = page.evaluate(FOCUSED)
    assert "tuile" in focused["cls"].split() and "Premier service" in focused["text"]
    assert focused["outline"] == "solid" and focused["width"] >= 3  # focus is plainly visible
    page.keyboard.press("Tab")
    assert "Second service" in page.evaluate(FOCUSED)["text"]
    page.keyboard.press("Enter")
    page.wait_for_url(site + "second")


def test_every_control_is_reachable_with_tab(page, shell_url):
    page.goto(shell_url + "aide")
    reached = set()
    for _ in range(30):
        page.keyboard.press("Tab")
        reached.add(page.evaluate("document.activeElement.innerText.trim()"))
    reached = {text.replace("\u2019", "'").replace("\u202f", " ") for text in reached}
    for name in ("Accueil", "Besoin d'aide ?", "Normal", "Grand", "Très grand", "Le plus grand", "Contraste renforcé",
                 "Revenir à l'accueil"):
        assert any(text.endswith(name) for text in reached), name


def test_offline_state_is_calm_and_help_still_works(page, shell_url):
    page.goto(shell_url)
    assert page.get_by_text("Pas de connexion Internet").is_visible()
    assert page.get_by_text("Internet ne fonctionne pas pour le moment").is_visible()
    tile = page.locator("a.tuile").first
    assert tile.locator(".tuile-indisponible").is_visible()
    assert tile.evaluate("el => getComputedStyle(el).borderTopStyle") == "dashed"
    tile.click()
    page.wait_for_url("**/hors-ligne?tuile=*")
    assert page.locator("h1").inner_text() == "Internet ne fonctionne pas pour le moment"
    assert page.get_by_role("link", name="Réessayer").is_visible()
    page.get_by_role("link", name="Aide", exact=True).click()
    page.wait_for_url(shell_url + "aide")
    assert page.locator("h1").inner_text() == "Besoin d’aide\u202f?"


def test_header_follows_the_connection_without_reloading(page, demo_config, serve_wsgi):
    from connectivity_check import ConnectivityCheck

    check = ConnectivityCheck.start("offline")  # the check gets no answer: no Internet
    try:
        settings = ShellSettings(**check.settings(), probe_cache_s=0, status_refresh_s=1)
        page.goto(serve_wsgi(create_app(demo_config, settings=settings)))
        assert page.get_by_text("Pas de connexion Internet").is_visible()
        page.evaluate("window.marker = 'same page'")
        check.mode = "online"  # the Internet comes back
        page.get_by_text("Connecté à Internet").wait_for(state="visible", timeout=10_000)
        assert page.locator(".tuile-indisponible").first.is_hidden()
        assert page.evaluate("window.marker") == "same page"
    finally:
        check.stop()


@pytest.mark.parametrize("width", [320, 1280])
@pytest.mark.parametrize("text", ["100%", "200%"])
def test_no_horizontal_scrolling_at_320_px_and_200_percent_text(browser, shell_url, width, text):
    context = browser.new_context(viewport={"width": width, "height": 800})
    try:
        page = context.new_page()
        for path in ("", "aide", "hors-ligne?tuile=impots", "non-autorise?hote=un.tres.long.nom.d-hote.exemple.fr"):
            page.goto(shell_url + path)
            page.evaluate(f"document.documentElement.style.fontSize = '{text}'")
            assert page.evaluate("document.documentElement.scrollWidth") <= width, path
    finally:
        context.close()


@pytest.mark.parametrize("width, height", [(1280, 800), (1024, 768)])
def test_home_screenshots(browser, demo_config, serve_wsgi, listening_port, artifacts_dir, width, height):
    settings = ShellSettings(probe_host="127.0.0.1", probe_port=listening_port)
    url = serve_wsgi(create_app(demo_config, settings=settings))
    context = browser.new_context(viewport={"width": width, "height": height}, locale="fr-FR")
    try:
        page = context.new_page()
        page.goto(url)
        page.wait_for_load_state("networkidle")
        path = artifacts_dir / f"shell-home-{width}x{height}.png"
        page.screenshot(path=str(path))
    finally:
        context.close()
    with Image.open(path) as image:
        assert image.size == (width, height)
        # Not blank: the header band and the tiles give many colours.
        assert len(image.convert("RGB").getcolors(maxcolors=1 << 16) or []) > 50


def test_pages_load_nothing_external_and_raise_no_error(page, shell_url):
    """No request leaves the shell, no script error, no CSP violation (they show as console errors)."""
    requests, problems = [], []
    page.on("request", lambda request: requests.append(request.url))
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    for path in ("", "aide", "non-autorise?hote=www.exemple.fr", "session-terminee", "hors-ligne?tuile=impots"):
        page.goto(shell_url + path, wait_until="networkidle")
    assert requests and all(url.startswith(shell_url) for url in requests), [u for u in requests if not u.startswith(shell_url)]
    assert problems == []
