"""The call-back form in Chromium: the on-screen keypad types the phone number, and the form with its
problems shown stays axe-clean (every impact), at 100 % and 200 % text, in both display modes."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.shell.test_accessibility import TEXT_SIZES, blocking_violations

pytestmark = pytest.mark.browser


def test_the_keypad_types_the_phone_number(page, shell_url):
    page.goto(shell_url + "aide/rappel")
    pad = page.get_by_role("group", name="Pavé de chiffres pour le numéro")
    assert pad.is_visible()
    for key in "0612345678":
        pad.get_by_role("button", name=key, exact=True).click()
    field = page.get_by_label("Votre numéro de téléphone")
    assert field.input_value() == "06 12 34 56 78"
    pad.get_by_role("button", name="Effacer").click()
    assert field.input_value() == "06 12 34 56 7"
    box = pad.get_by_role("button", name="5", exact=True).bounding_box()
    assert box["height"] >= 60 and box["width"] >= 70, "large keys"


@pytest.mark.parametrize("contrast", [False, True], ids=["usual", "high-contrast"])
@pytest.mark.parametrize("text", ["100%", "200%"])
def test_the_form_with_its_problems_is_axe_clean(page, shell_url, text, contrast):
    page.goto(shell_url + "aide/rappel")
    if contrast:
        with page.expect_navigation():
            page.get_by_role("button", name="Contraste renforcé").click()
    with page.expect_navigation():
        page.get_by_role("button", name=TEXT_SIZES[text], exact=True).click()
    page.get_by_label("Votre prénom, ou comment vous appeler").fill("Marie")
    page.get_by_label("Votre numéro de téléphone").fill("06 12")
    with page.expect_navigation():
        page.get_by_role("button", name="Envoyer ma demande").click()
    assert page.get_by_role("alert").get_by_text(re.compile("Téléphone.: ce numéro n.a pas l.air complet")).is_visible()
    assert page.get_by_label("Votre prénom, ou comment vous appeler").input_value() == "Marie"
    assert blocking_violations(Axe(), page) == []
