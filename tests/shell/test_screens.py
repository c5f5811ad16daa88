"""The first screen hides nothing, on every screen a donated PC may have (Debian's Chromium).

For each screen W × H of the contracts, the page area is W × (H − 80) (the window's native toolbar
takes at most 80 px): at 100 % and 200 % text, in usual and high contrast, every tile "à la une" and
the "Tous les services" button lie fully inside the viewport (the header showing its widest date,
time and connection text: the layout must hold every day, see tests/longest_header.py), with no horizontal scroll; every page
of "Tous les services" shows all its tiles and its "Suite" / "Retour" links without scrolling, following
"Suite" reaches every service exactly once, and each page's "Retour" leads to the page before it. A screenshot per case is kept
in test-artifacts/screens/.
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import pytest

from kiosk.shell import ShellSettings, create_app
from tests.longest_header import WIDEST_HEADER, every_date_text

pytestmark = pytest.mark.browser

SCREENS = [(1024, 768), (1280, 800), (1280, 1024), (1366, 768), (1440, 900), (1600, 900), (1920, 1080)]
TOOLBAR_PX = 80
TEXT_SIZES = {"100%": "normal", "200%": "maximal"}

OUTSIDE = """selector => [...document.querySelectorAll(selector)].filter(element => {
    const box = element.getBoundingClientRect();
    return box.width === 0 || box.height === 0 || box.top < 0 || box.left < 0
        || box.bottom > window.innerHeight || box.right > window.innerWidth;
}).map(element => element.getAttribute('data-tuile') || element.textContent.trim())"""
HORIZONTAL_SCROLL = "document.documentElement.scrollWidth > window.innerWidth"
# Tiles whose content overflows them, or that overlap another tile (a long word in a narrow column).
CRAMPED = """selector => { const tiles = [...document.querySelectorAll(selector)];
    const boxes = tiles.map(tile => tile.getBoundingClientRect());
    return tiles.filter((tile, index) => tile.scrollWidth > tile.clientWidth + 1 || tile.scrollHeight > tile.clientHeight + 1
        || boxes.some((other, j) => j !== index && boxes[index].left < other.right - 1 && other.left < boxes[index].right - 1
                                  && boxes[index].top < other.bottom - 1 && other.top < boxes[index].bottom - 1))
        .map(tile => tile.getAttribute('data-tuile')); }"""


@contextlib.contextmanager
def serving_shell(config_dir: Path):
    """The shell as the kiosk window serves it (in_kiosk_window: the toolbar has Accueil and text sizes)."""
    import threading

    from werkzeug.serving import make_server

    from kiosk.config import load_config

    from connectivity_check import ConnectivityCheck

    check = ConnectivityCheck.start("online")
    # A generous probe timeout: on a loaded test machine a slow probe must not turn the page "offline".
    settings = ShellSettings(**check.settings(), in_kiosk_window=True, probe_timeout_s=20, probe_cache_s=3600)
    app = create_app(load_config(config_dir), settings=settings)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/", load_config(config_dir)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
        check.stop()


@pytest.fixture(scope="module")
def window_shell():
    from tests.conftest import DEMO_DIR

    with serving_shell(DEMO_DIR) as served:
        yield served


# France's longest commune name (45 letters).
LONGEST_COMMUNE = "Saint-Rémy-en-Bouzemont-Saint-Genest-et-Isson"


@pytest.fixture(scope="module")
def longest_name_shell(tmp_path_factory):
    """The demo configuration with the longest commune name of France."""
    from tests.conftest import DEMO_DIR

    directory = tmp_path_factory.mktemp("longest-name") / "config" / "demo"
    shutil.copytree(DEMO_DIR.parent, directory.parent)
    kiosk_yaml = directory / "kiosk.yaml"
    text = kiosk_yaml.read_text(encoding="utf-8")
    assert "name: Bagnères-de-Luchon" in text
    kiosk_yaml.write_text(text.replace("name: Bagnères-de-Luchon", f"name: {LONGEST_COMMUNE}", 1), encoding="utf-8")
    with serving_shell(directory) as served:
        yield served


def choose_display(page, base: str, **fields: str) -> None:
    """Submit the display form as the window's toolbar does (a same-origin POST to /affichage)."""
    page.goto(base)
    with page.expect_navigation():
        page.evaluate("""fields => { const form = document.createElement('form');
            form.method = 'post'; form.action = '/affichage';
            for (const [name, value] of Object.entries(fields)) {
                const input = document.createElement('input'); input.name = name; input.value = value; form.appendChild(input); }
            document.body.appendChild(form); form.submit(); }""", fields)


def open_display(browser, base: str, width: int, height: int, text: str, contrast: bool):
    context = browser.new_context(viewport={"width": width, "height": height - TOOLBAR_PX})
    page = context.new_page()
    choose_display(page, base, texte=TEXT_SIZES[text], contraste="oui" if contrast else "non")
    assert page.evaluate("document.documentElement.className") == \
        f"texte-{TEXT_SIZES[text]}" + (" contraste" if contrast else "")
    assert page.evaluate("document.documentElement.dataset.enLigne") == "oui"
    widest_header(page)
    return context, page


def widest_header(page, dates: list[str] | None = None) -> str:
    """The date, time and connection state at their widest (the layout must hold every day of the year);
    answers the widest date text, so that the next pages of the same display need measure only it."""
    assert page.evaluate(WIDEST_HEADER, dates or every_date_text()) is not None
    return page.evaluate("document.getElementById('date-du-jour').textContent")


def same_page(url: str, other: str) -> bool:
    """Two addresses of the same page of all services (the first is also served without ?page=1)."""
    def canonical(address: str) -> str:
        return address if "?page=" in address else address + "?page=1"
    return canonical(url) == canonical(other)


def case_name(width, height, text, contrast) -> str:
    return f"{width}x{height}-{text.rstrip('%')}-{'contraste' if contrast else 'normal'}"


# The home is loaded once per display and checked at every screen size (the viewport resized: nothing in
# the shell depends on the size it was loaded at, its layout is CSS only): one page load, not seven.
@pytest.mark.parametrize("contrast", [False, True], ids=["usual", "high-contrast"])
@pytest.mark.parametrize("text", list(TEXT_SIZES))
def test_first_screen_shows_every_featured_tile(browser, window_shell, artifacts_dir, text, contrast):
    base, _ = window_shell
    context, page = open_display(browser, base, *SCREENS[0], text, contrast)
    try:
        assert page.locator("[data-featured-tile]").count() >= (6 if text == "100%" else 4)
        for width, height in SCREENS:
            page.set_viewport_size({"width": width, "height": height - TOOLBAR_PX})
            where = f"{width}x{height}"
            assert page.evaluate(OUTSIDE, "[data-featured-tile]") == [], where
            assert page.evaluate(CRAMPED, "[data-featured-tile]") == [], where
            assert page.evaluate(OUTSIDE, "[data-all-services]") == [], where
            assert page.evaluate(OUTSIDE, "[data-poste-public]") == [], where
            assert not page.evaluate(HORIZONTAL_SCROLL), where
            page.screenshot(path=str(artifacts_dir / "screens" / f"accueil-{case_name(width, height, text, contrast)}.png"))
    finally:
        context.close()


# The pages of all services are cut by the server for the text size (not the screen): walked in full
# on the smallest screen, the widest short one and the largest. Each page is loaded once per display and
# checked at each of these sizes (the viewport resized: nothing in the shell depends on the size it was
# loaded at, its layout is CSS only), so that the walk costs one page load per page, not three.
WALKED = [(1024, 768), (1366, 768), (1920, 1080)]


def fits_every_walked_screen(page, artifacts_dir: Path, screenshot_as: tuple[str, bool] | None) -> None:
    """Every tile and page link inside the viewport, no tile cramped, no horizontal scroll, at each size of
    WALKED (left at the smallest, the one the links are then clicked at)."""
    for width, height in reversed(WALKED):
        page.set_viewport_size({"width": width, "height": height - TOOLBAR_PX})
        where = (page.url, f"{width}x{height}")
        assert page.evaluate(OUTSIDE, ".tuile, .bouton-page") == [], where
        assert page.evaluate(CRAMPED, ".tuile") == [], where
        assert not page.evaluate(HORIZONTAL_SCROLL), where
        if screenshot_as:
            text, contrast = screenshot_as
            page.screenshot(path=str(artifacts_dir / "screens" / f"services-{case_name(width, height, text, contrast)}.png"))


@pytest.mark.parametrize("contrast", [False, True], ids=["usual", "high-contrast"])
@pytest.mark.parametrize("text", list(TEXT_SIZES))
def test_all_services_pages_fit_and_reach_every_service_once(browser, window_shell, artifacts_dir, text, contrast):
    base, config = window_shell
    width, height = WALKED[0]
    context, page = open_display(browser, base, width, height, text, contrast)
    try:
        page.locator("[data-all-services]").click()
        page.wait_for_url(base + "services")
        widest = [widest_header(page)]  # the same header on every page: measured once for this display
        seen: list[str] = []
        urls: list[str] = []
        while True:
            urls.append(page.url)
            fits_every_walked_screen(page, artifacts_dir, (text, contrast) if len(urls) == 2 else None)
            seen += page.locator(".tuile").evaluate_all("tiles => tiles.map(tile => tile.dataset.tuile)")
            # "Retour" leads to the page before (a plain link; followed below from the last page and to the
            # first), the first page's to the home.
            if len(urls) > 1:
                back = page.locator("[data-page-precedente]").evaluate("link => link.href")
                assert same_page(back, urls[-2]), (page.url, back)
            else:
                assert page.locator("[data-page-precedente]").count() == 0, page.url
                first_page = base + "services?page=1"
            following = page.locator("[data-page-suivante]")
            if following.count() == 0:
                break
            with page.expect_navigation():
                following.click()
            widest_header(page, widest)
        assert seen == [tile.id for tile in config.tiles]  # every service, once, in order
        if len(urls) > 1:
            with page.expect_navigation():
                page.locator("[data-page-precedente]").click()
            assert same_page(page.url, urls[-2]) and f"Page {len(urls) - 1} sur" in page.content()
            page.goto(first_page)  # where page 2's "Retour" leads (checked above)
        assert "page 1 sur" in page.locator("h1").inner_text()
        with page.expect_navigation():
            page.locator("[data-retour-accueil]").click()
        assert page.url == base
    finally:
        context.close()


def test_small_screen_stays_usable(browser, window_shell, artifacts_dir):
    """At 800 × 600 the home may scroll, but never sideways, and every tile can be reached."""
    base, _ = window_shell
    context = browser.new_context(viewport={"width": 800, "height": 600 - TOOLBAR_PX})
    try:
        page = context.new_page()
        for size in TEXT_SIZES.values():
            choose_display(page, base, texte=size)
            for path in ("", "services", "aide"):
                page.goto(base + path)
                assert not page.evaluate(HORIZONTAL_SCROLL), (size, path)
            page.goto(base)
            page.screenshot(path=str(artifacts_dir / "screens" / f"accueil-800x600-{size}.png"), full_page=True)
    finally:
        context.close()


@pytest.mark.parametrize("text", list(TEXT_SIZES))
@pytest.mark.parametrize("width, height", [(1024, 768), (1366, 768)], ids=["1024x768", "1366x768"])
def test_the_longest_commune_name_keeps_the_first_screen(browser, longest_name_shell, artifacts_dir, width, height,
                                                         text):
    base, config = longest_name_shell
    assert config.commune.name == LONGEST_COMMUNE
    context, page = open_display(browser, base, width, height, text, contrast=True)
    try:
        assert page.locator(".commune-nom").inner_text() == LONGEST_COMMUNE
        assert page.evaluate(OUTSIDE, "[data-featured-tile]") == []
        assert page.evaluate(OUTSIDE, "[data-all-services]") == []
        assert page.evaluate(OUTSIDE, ".commune-nom") == []
        assert not page.evaluate(HORIZONTAL_SCROLL)
        page.screenshot(path=str(artifacts_dir / "screens" / f"accueil-nom-long-{case_name(width, height, text, True)}.png"))
    finally:
        context.close()
