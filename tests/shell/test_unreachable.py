"""/injoignable and /hors-ligne: which page, which service name, and hostile arguments (no window)."""

from __future__ import annotations

import pytest

from connectivity_check import ConnectivityCheck
from kiosk.shell import ShellSettings, create_app

NNBSP = "\u202f"


@pytest.fixture
def check():
    server = ConnectivityCheck.start("online")
    yield server
    server.stop()


@pytest.fixture
def client(make_client, demo_config, check):
    settings = ShellSettings(**check.settings(), probe_timeout_s=1.0, probe_cache_s=60)
    return make_client(create_app(demo_config, settings=settings))


def test_the_service_is_named_from_the_tile_whose_hosts_include_the_failing_host(client):
    answer = client.get("/injoignable?hote=cfsfc.impots.gouv.fr&cause=serveur&code=503"
                        "&adresse=https://cfsfc.impots.gouv.fr/avis%3Fid%3D1")
    assert answer.status_code == 200
    page = answer.text
    assert 'data-probleme="service"' in page and 'data-en-ligne="oui"' in page
    assert "Le site des impôts ne répond pas pour le moment</h1>" in page
    assert "Ce n’est pas de votre faute. Vous pouvez réessayer, ou essayer plus tard." in page
    assert f"Pour la personne qui vous aide{NNBSP}: le site signale une panne (erreur 503)." in page
    assert 'href="https://cfsfc.impots.gouv.fr/avis?id=1">Réessayer' in page
    for label in (">Aide<", ">Accueil<"):
        assert label in page


def test_a_shared_host_is_named_after_the_tile_the_resident_came_through(client):
    page = client.get("/injoignable?hote=oidc.franceconnect.gouv.fr&cause=dns&tuile=caf").text
    assert "Le site de la CAF ne répond pas pour le moment" in page
    assert 'href="/ouvrir/caf">Réessayer' in page  # no address given: the tile again


def test_portal_and_offline_come_from_a_check_made_now(client, check):
    check.mode = "portal"
    page = client.get("/injoignable?hote=www.impots.gouv.fr&cause=dns").text
    assert 'data-probleme="portail"' in page and 'data-en-ligne="non"' in page
    check.mode = "offline"
    page = client.get("/injoignable?hote=www.impots.gouv.fr&cause=dns").text
    assert 'data-probleme="hors-ligne"' in page and 'data-en-ligne="non"' in page
    assert "«\u202fImpôts\u202f» ne peut pas s’ouvrir sans Internet" in page
    check.mode = "online"
    page = client.get("/injoignable?hote=www.impots.gouv.fr&cause=dns").text
    assert 'data-probleme="service"' in page and 'data-en-ligne="oui"' in page


@pytest.mark.parametrize("query", [
    "hote=<script>&cause=dns",
    "hote=" + "a" * 300 + "&cause=%00",
    "cause=nimporte&code=200",
    "hote=www.impots.gouv.fr&cause=serveur&code=5000",
    "hote=evil.example&adresse=https://evil.example/x",
    "hote=www.impots.gouv.fr&adresse=javascript:alert(1)",
    "hote=www.impots.gouv.fr&adresse=https://evil.example/",
    "tuile=../../etc&hote=",
])
def test_hostile_arguments_never_reach_the_page(client, query):
    answer = client.get("/injoignable?" + query)
    assert answer.status_code == 200
    page = answer.text
    for bad in ("<script>", 'href="https://evil.example', "javascript:", "nimporte", "5000", "../"):
        assert bad not in page
    assert "ne répond pas pour le moment" in page


def test_unknown_host_is_this_site(client):
    page = client.get("/injoignable?hote=www.exemple.org&cause=delai").text
    assert "Ce site ne répond pas pour le moment" in page and 'href="/">Réessayer' in page
    assert "le site met trop de temps à répondre" in page


def test_status_says_which_connection_problem(client, check):
    check.mode = "portal"
    client.get("/injoignable?hote=www.impots.gouv.fr")  # a check made now, remembered
    status = client.get("/etat").json
    assert status["online"] is False and status["connection"] == "portal"
