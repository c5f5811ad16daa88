"""« Être rappelé(e) » (issue 13 point 1): the form is reached from the help, checks the phone number
kindly, names each problem in French beside its field, loses nothing typed, and hands a valid request
to the agent's folder without keeping anything of it in the shell (cookie, URL)."""

from __future__ import annotations

import json

import pytest

from kiosk.events import EventLog
from kiosk.protocol.callback import normalize_phone, validate_callback
from kiosk.shell import create_app
from tests.shell.conftest import page_client

GOOD = {"nom": "Marie", "telephone": "06.12.34.56.78", "sujet": "retraite", "moment": "asap"}


@pytest.fixture
def drop_client(demo_config, offline_settings, tmp_path):
    app = create_app(demo_config, settings=offline_settings, events=EventLog(tmp_path / "events"))
    return page_client(app), tmp_path / "events" / "rappels"


@pytest.mark.parametrize("typed, expected", [
    ("0612345678", "06 12 34 56 78"), ("06 12 34 56 78", "06 12 34 56 78"), ("06.12.34.56.78", "06 12 34 56 78"),
    ("+33 6 12 34 56 78", "06 12 34 56 78"), ("+33 (0)5 61 79 00 00", "05 61 79 00 00"),
    ("0033561790000", "05 61 79 00 00"), (" 05-61-79-00-00 ", "05 61 79 00 00"),
    ("061234567", None), ("06123456789", None), ("0012345678", None), ("+44 20 7946 0958", None),
    ("06 12 34 56 7a", None), ("", None), ("0" * 40, None),
])
def test_french_phone_numbers_are_recognised_kindly(typed, expected):
    assert normalize_phone(typed) == expected


def test_the_help_page_leads_to_the_form(client):
    help_page = client.get("/aide")
    assert 'href="/aide/rappel"' in help_page.text and "Être rappelé(e)" in help_page.text
    form = client.get("/aide/rappel")
    assert form.status_code == 200
    for label in ("Votre prénom, ou comment vous appeler", "Votre numéro de téléphone", "C'est à propos de quoi ?",
                  "Quand vous rappeler ?", "Impôts", "Santé", "Retraite", "Papiers", "Emploi", "Autre chose"):
        assert label in form.page, label
    # The consent sentence: what is kept, by whom, for how long.
    assert "effacés de cet ordinateur dès l'envoi" in form.page and "30 jours" in form.page
    assert "Dès que possible" in form.page


def test_the_mediators_hours_are_the_slots_offered(client, demo_config):
    from kiosk.shell.callback_form import slots
    offered = slots(demo_config.help.mediator)
    page = client.get("/aide/rappel").page
    assert len(offered) >= 2, "the demo's mediator has hours"
    for key, label in offered.items():
        assert f'value="{key}"' in page and label.replace("\u202f", " ").replace("\u00a0", " ") in page


def test_each_problem_is_named_in_french_and_nothing_typed_is_lost(drop_client):
    client, folder = drop_client
    answer = client.post("/aide/rappel", data={"nom": "  Jean  ", "telephone": "06 12 34", "sujet": "", "moment": "zz"})
    assert answer.status_code == 400
    page = answer.page
    assert "3 choses à corriger" in page
    assert "Téléphone : ce numéro n'a pas l'air complet" in page
    assert "Sujet : choisissez de quoi il s'agit" in page and "Quand vous rappeler : choisissez un moment." in page
    assert 'value="  Jean  "' in answer.text and 'value="06 12 34"' in answer.text
    assert 'aria-invalid="true" aria-describedby="rappel-telephone-aide rappel-telephone-erreur"' not in page
    assert 'aria-describedby="rappel-telephone-aide rappel-telephone-erreur" aria-invalid="true"' in page
    assert not folder.exists() or not list(folder.iterdir())

    answer = client.post("/aide/rappel", data={**GOOD, "nom": "", "telephone": ""})
    assert "Prénom : écrivez comment vous appeler" in answer.page
    assert "Téléphone : écrivez le numéro où vous rappeler" in answer.page
    assert 'value="retraite" checked' in answer.text and 'value="asap" checked' in answer.text


def test_a_valid_request_goes_to_the_agents_folder_and_nowhere_else(drop_client):
    client, folder = drop_client
    answer = client.post("/aide/rappel", data=GOOD)
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/aide/rappel/envoye")
    files = list(folder.glob("*.json"))
    assert len(files) == 1
    request = json.loads(files[0].read_text())
    assert request["phone"] == "06 12 34 56 78" and request["name"] == "Marie" and request["subject"] == "retraite"
    assert validate_callback(request, latest=request["made_at"] + 1) == []
    assert files[0].stem == request["request_id"]
    # Nothing of it in the cookie or the answer page's address.
    cookies = " ".join(cookie.value for cookie in client._cookies.values()) if hasattr(client, "_cookies") else ""
    assert "Marie" not in cookies and "06" not in answer.headers["Location"]
    sent = client.get("/aide/rappel/envoye")
    assert sent.status_code == 200 and "Votre demande est enregistrée" in sent.page and "Marie" not in sent.page


def test_without_the_agents_folder_the_form_says_so_and_keeps_everything(client):
    answer = client.post("/aide/rappel", data=GOOD)
    assert answer.status_code == 503
    assert "La demande n'a pas pu être enregistrée" in answer.page and 'value="06.12.34.56.78"' in answer.text


def test_a_request_from_another_origin_is_refused(drop_client):
    client, folder = drop_client
    answer = client.post("/aide/rappel", data=GOOD, headers={"Origin": "https://www.exemple.fr"})
    assert answer.status_code == 403 and not folder.exists()
