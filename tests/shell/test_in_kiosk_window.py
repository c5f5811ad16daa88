"""Inside the kiosk window the header leaves "Accueil" and the text size to the native toolbar."""

from __future__ import annotations

import re

import pytest

from kiosk.shell import create_app


def header_controls(page: str) -> dict[str, bool]:
    header = page.split("<main", 1)[0]
    return {
        "accueil": bool(re.search(r'<a class="bouton bouton-clair" href="/"[^>]*>Accueil</a>', header)),
        "taille": "Taille du texte" in header and 'name="texte"' in header,
        "contraste": 'name="contraste"' in header and "Contraste renforcé" in header,
        "aide": "Besoin d'aide" in header,
    }


@pytest.mark.parametrize("path", ["/", "/aide"])
def test_the_window_hides_what_its_toolbar_already_offers(demo_config, online_settings, make_client, path):
    plain = make_client(create_app(demo_config, settings=online_settings)).get(path)
    windowed = make_client(create_app(demo_config, settings=online_settings.with_changes(in_kiosk_window=True))).get(path)
    assert plain.status_code == windowed.status_code == 200
    assert header_controls(plain.page) == {"accueil": True, "taille": True, "contraste": True, "aide": True}
    assert header_controls(windowed.page) == {"accueil": False, "taille": False, "contraste": True, "aide": True}


@pytest.mark.parametrize("text, expected", [("1", True), ("oui", True), ("false", False), ("0", False)])
def test_the_setting_comes_from_the_environment(text, expected):
    from kiosk.shell import ShellSettings

    assert ShellSettings.from_environment({"KIOSK_SHELL_IN_KIOSK_WINDOW": text}).in_kiosk_window is expected


def test_a_bad_boolean_names_the_variable():
    from kiosk.shell import ShellSettings

    with pytest.raises(ValueError, match="KIOSK_SHELL_IN_KIOSK_WINDOW"):
        ShellSettings.from_environment({"KIOSK_SHELL_IN_KIOSK_WINDOW": "peut-être"})
