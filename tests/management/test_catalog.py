"""The national services catalog with its pictograms, managed on the fleet server and carried in the
bundles (issue 12): the real agent against the real fleet app over loopback, SQLite and PostgreSQL.

A staff change of a service's address (the dashboard's form) reaches the kiosk's rendered home page and
the tile's link after one check-in and a session boundary; a bundle with a bad pictogram (signed with the
fleet's real key, so only the kiosk's checks can refuse it) is refused whole, the old configuration kept;
the staff read the same French messages as ``kiosk check-config``; the catalog's history rolls back."""

from __future__ import annotations

import time

import pytest

from kiosk.agent import bundles_format
from kiosk.agent.bundles import active_config_dir, applied_version, apply_staged, staged_version
from kiosk.config import load_config
from kiosk.config.pictograms import PictogramRefused, check_svg
from management_helpers import ASSET_TAG, REPO, catalog_files
from tests.dashboard.dashboard_helpers import csrf_token

NEW_URL = "https://www.ameli.fr/assure/compte"
NEW_LABEL = "Ameli, l'Assurance maladie"


def import_catalog(fleet) -> int:
    from provisioning.fleet import catalog
    return catalog.publish(fleet.engine, *catalog_files(), "cli:test", time.time())


def edit_service(client, service_id: str, **fields):
    page = client.get(f"/tableau/catalogue/services/{service_id}").get_data(as_text=True)
    return client.post(f"/tableau/catalogue/services/{service_id}", data={"csrf_token": csrf_token(page), **fields})


def test_a_staff_change_of_a_service_address_reaches_the_kiosk_page(managed_fleet, listening_port):
    from kiosk.shell import ShellSettings, create_app
    fleet = managed_fleet
    import_catalog(fleet)
    assert fleet.checkin() and apply_staged(fleet.bundle_dir) == 2  # the site's version 1, then the catalog's
    assert (fleet.bundle_dir / "current" / "services.yaml").is_file()
    staff = fleet.staff()
    answer = edit_service(staff, "ameli", label=NEW_LABEL, url=NEW_URL,
                          hosts="www.ameli.fr\nassure.ameli.fr")
    assert answer.status_code == 302, answer.get_data(as_text=True)[:500]
    assert fleet.checkin() and staged_version(fleet.bundle_dir) == 3
    assert apply_staged(fleet.bundle_dir) == 3  # the session boundary
    config = load_config(active_config_dir(fleet.bundle_dir, fleet.config_dir))
    shell = create_app(config, settings=ShellSettings(probe_host="127.0.0.1", probe_port=listening_port)).test_client()
    home = shell.get("/services").get_data(as_text=True)
    assert ">Ameli, l\u2019Assurance maladie</span>" in home and ">Assurance maladie</span>" not in home
    opened = shell.get("/ouvrir/ameli")
    assert opened.status_code == 302 and opened.headers["Location"] == NEW_URL
    picture = shell.get("/pictogrammes/ameli.svg")
    assert picture.status_code == 200 and picture.data == (REPO / "config" / "pictograms" / "sante.svg").read_bytes()
    # The history says who changed what, readably; the machine page knows what the kiosk applied.
    assert fleet.checkin()
    page = staff.get("/tableau/catalogue").get_data(as_text=True)
    import html
    assert f"<strong>Services › ameli › adresse du site</strong> : https://www.ameli.fr/ → {NEW_URL}" in html.unescape(page)


def test_the_staff_read_the_kiosk_check_config_messages(managed_fleet):
    fleet = managed_fleet
    import_catalog(fleet)
    staff = fleet.staff()
    answer = edit_service(staff, "ameli", label="Assurance maladie", url="https://ailleurs.example/",
                          hosts="www.ameli.fr")
    text = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "l&#39;hôte de départ « ailleurs.example » n&#39;est pas dans les hôtes autorisés" in text
    answer = edit_service(staff, "ameli", label="Assurance maladie", url="https://www.ameli.fr/", hosts="https://x/y")
    assert answer.status_code == 400 and "n&#39;est pas un nom d&#39;hôte" in answer.get_data(as_text=True)
    from provisioning.fleet import catalog
    assert [item.version for item in catalog.history(fleet.engine)] == [1]  # nothing published
    assert fleet.staff("commune").get("/tableau/catalogue/services/ameli").status_code == 403


def test_the_catalog_rolls_back_and_every_commune_follows(managed_fleet):
    from provisioning.fleet import catalog, management
    from management_helpers import LUCHON
    fleet = managed_fleet
    import_catalog(fleet)
    staff = fleet.staff()
    assert edit_service(staff, "ameli", label="Assurance maladie", url=NEW_URL,
                        hosts="www.ameli.fr\nassure.ameli.fr").status_code == 302
    page = staff.get("/tableau/catalogue").get_data(as_text=True)
    answer = staff.post("/tableau/catalogue/1/retour", data={"csrf_token": csrf_token(page)})
    assert answer.status_code == 302
    assert [item.version for item in catalog.history(fleet.engine)] == [3, 2, 1]
    with fleet.engine.connect() as conn:
        version, content = management.latest(conn, LUCHON)
        served = management.bundle_document(conn, content)
    assert version == 4 and content["catalog_version"] == 3
    ameli = next(item for item in served["catalog"]["services"] if item["id"] == "ameli")
    assert ameli["url"] == "https://www.ameli.fr/"
    assert "retour à la version 1" in management.history(fleet.engine, LUCHON, 1)[0].summary


def test_a_bundle_with_a_bad_pictogram_is_refused_whole(managed_fleet, monkeypatch):
    from provisioning.fleet import management
    from test_bundles import _resign, _serve_tampered
    fleet = managed_fleet
    import_catalog(fleet)
    assert fleet.checkin() and apply_staged(fleet.bundle_dir) == 2
    before = load_config(active_config_dir(fleet.bundle_dir, fleet.config_dir))
    assert edit_service(fleet.staff(), "ameli", label="Assurance maladie", url=NEW_URL,
                        hosts="www.ameli.fr\nassure.ameli.fr").status_code == 302

    def scripted(headers, payload):
        content = bundles_format.decode(payload)
        content["pictograms"]["sante.svg"] = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 80 80">'
                                              '<script>fetch("https://evil.example/")</script></svg>')
        return _resign(fleet, content)
    _serve_tampered(fleet, monkeypatch, scripted)
    assert fleet.checkin()
    assert staged_version(fleet.bundle_dir) is None and applied_version(fleet.bundle_dir) == 2
    assert not list(fleet.bundle_dir.glob(".v*")) and not (fleet.bundle_dir / "v3").exists()
    after = load_config(active_config_dir(fleet.bundle_dir, fleet.config_dir))
    assert after.tile("ameli").url == before.tile("ameli").url == "https://www.ameli.fr/"
    status = management.status_of(fleet.engine, ASSET_TAG)
    assert status["refused_version"] == 3 and "pictogram 'sante.svg' refused" in status["refusal"]
    assert status["applied_version"] == 2


GOOD = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 80 80"><rect width="80" height="80" fill="#e4eee9"/></svg>'


@pytest.mark.parametrize("svg, reason", [
    ('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "élément <script>"),
    ('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "attribut « onload »"),
    ('<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink"><image x:href="https://e.example/a.png"/></svg>',
     "élément <image>"),
    ('<svg xmlns="http://www.w3.org/2000/svg"><rect fill="url(https://e.example/p.svg#a)"/></svg>', "référence externe"),
    ('<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><p xmlns="http://www.w3.org/1999/xhtml">x</p></foreignObject></svg>',
     "élément <foreignObject>"),
    ('<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">]><svg xmlns="http://www.w3.org/2000/svg">&a;</svg>', "DOCTYPE"),
    ('<svg xmlns="http://www.w3.org/2000/svg"><style>rect{fill:red}</style></svg>', "élément <style>"),
    ("<html><body>pas un dessin</body></html>", "doit commencer par <svg"),
    ('<svg xmlns="http://www.w3.org/2000/svg"><rect', "illisible"),
    (GOOD[:-6] + "<!--" + "x" * 17000 + "--></svg>", "trop gros"),
], ids=["script", "handler", "external-image", "external-url", "foreign-object", "entities", "style", "not-svg",
        "truncated", "too-large"])
def test_a_pictogram_that_could_run_or_fetch_anything_is_refused(svg, reason):
    with pytest.raises(PictogramRefused, match=reason):
        check_svg(svg.encode())


def test_every_installed_pictogram_passes():
    check_svg(GOOD.encode())
    for picture in [*(REPO / "config" / "pictograms").glob("*.svg"), *(REPO / "config" / "demo" / "pictograms").glob("*.svg")]:
        check_svg(picture.read_bytes())
