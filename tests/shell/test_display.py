"""Text size and contrast choices: stored in the session cookie, validated, sent back to a shell page."""

from __future__ import annotations

import pytest


def test_default_display_is_normal_text_without_contrast(client):
    html = client.get("/").page
    assert 'class="texte-normal"' in html
    assert 'value="normal" class="bouton-reglage taille-normal" aria-pressed="true"' in html


@pytest.mark.parametrize("size", ["grand", "tres-grand", "maximal", "normal"])
def test_text_size_is_remembered_for_the_session(client, size):
    answer = client.post("/affichage", data={"texte": size, "retour": "/aide"})
    assert answer.status_code == 303 and answer.headers["Location"] == "/aide"
    assert f'class="texte-{size}"' in client.get("/").page


def test_contrast_toggles(client):
    client.post("/affichage", data={"contraste": "oui", "retour": "/"})
    assert 'class="texte-normal contraste"' in client.get("/").page
    client.post("/affichage", data={"contraste": "non", "retour": "/"})
    assert "contraste\"" not in client.get("/").page.split(">", 2)[1]


def test_unknown_values_change_nothing(client):
    client.post("/affichage", data={"texte": "enorme", "contraste": "peut-etre"})
    assert 'class="texte-normal"' in client.get("/").page


def test_a_new_session_starts_with_the_usual_display(make_client, online_app):
    first = make_client(online_app)
    first.post("/affichage", data={"texte": "tres-grand"})
    assert 'class="texte-tres-grand"' in first.get("/").page
    assert 'class="texte-normal"' in make_client(online_app).get("/").page


def test_session_cookie_is_strict_and_http_only(client):
    answer = client.post("/affichage", data={"texte": "grand"})
    cookie = answer.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie


@pytest.mark.parametrize("retour, expected", [
    ("/aide", "/aide"),
    ("/hors-ligne?tuile=impots", "/hors-ligne?tuile=impots"),
    ("https://exemple.fr/", "/"),
    ("//exemple.fr/", "/"),
    ("/\\exemple.fr", "/"),
    ("/nulle-part", "/"),
    ("/affichage", "/"),
    ("", "/"),
])
def test_return_path_stays_on_shell_pages(client, retour, expected):
    answer = client.post("/affichage", data={"texte": "grand", "retour": retour})
    assert answer.headers["Location"] == expected


def test_a_change_from_another_site_is_refused(client):
    answer = client.post("/affichage", data={"texte": "tres-grand"}, headers={"Origin": "http://exemple.fr"})
    assert answer.status_code == 403
    assert "Cette action n'est pas possible ici" in answer.page
    assert 'class="texte-normal"' in client.get("/").page


def test_a_change_from_the_shell_itself_is_accepted(client):
    answer = client.post("/affichage", data={"texte": "grand"}, headers={"Origin": "http://localhost"})
    assert answer.status_code == 303
