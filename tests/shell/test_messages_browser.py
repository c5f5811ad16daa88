"""The staff's banner (issue 12) in Debian's Chromium: above the page's content on every shell page, in
its own part of the layout (nothing covers it), readable at 200 % text with no horizontal scrolling, no
script of its own, and axe-clean (every impact)."""

from __future__ import annotations

import json
import time

import pytest
from axe_playwright_python.sync_playwright import Axe

pytestmark = pytest.mark.browser

TEXT = ("Le bus de l'association ne passera pas jeudi 12 décembre ; prochain passage le jeudi 19 décembre "
        "sur la place de la mairie, de 9 h 30 à 12 h.")


@pytest.mark.parametrize("text_size", ["Normal", "Le plus grand"])
def test_the_banner_is_above_every_page_and_readable_at_200_percent(page, demo_config, serve_wsgi, closed_port,
                                                                      tmp_path, text_size):
    from kiosk.shell import ShellSettings, create_app
    messages = tmp_path / "messages.json"
    messages.write_text(json.dumps([{"id": 1, "text": TEXT, "ends_at": time.time() + 3600}]))
    url = serve_wsgi(create_app(demo_config, settings=ShellSettings(
        probe_host="127.0.0.1", probe_port=closed_port, messages_file=str(messages))))
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto(url)
    with page.expect_navigation():
        page.get_by_role("button", name=text_size, exact=True).click()
    for path in ("", "services", "aide", "hors-ligne?tuile=impots"):
        page.goto(url + path)
        banner = page.locator(".message-equipe")
        assert banner.is_visible() and "prochain passage le jeudi 19 décembre sur la place" in banner.inner_text(), path
        box, main = banner.bounding_box(), page.locator("main").bounding_box()
        assert box["y"] + box["height"] <= main["y"], path  # above the content, never over it
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"), path
        font = page.evaluate("parseFloat(getComputedStyle(document.querySelector('.message-equipe-texte')).fontSize)")
        assert font >= (24 if text_size == "Normal" else 48), (path, font)
        results = Axe().run(page, options={"resultTypes": ["violations"]})
        assert [item["id"] for item in results.response["violations"]] == [], path
