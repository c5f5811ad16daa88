"""Exports: GLPI inventories valid against GLPI's JSON Schema, the mediation-places CSV valid against the
national table schema, CSV of the usage tables with small counts written "< 5"."""

from __future__ import annotations

import csv
import io
import json

import jsonschema
import pytest

from dashboard_helpers import LUCHON, SHARED_DATA

GLPI_SCHEMA = SHARED_DATA / "glpi-inventory-format" / "inventory.schema.json"
MEDIATION_SCHEMA = SHARED_DATA / "mediation-num-schema" / "schema.json"
MEDIATION_EXAMPLE = SHARED_DATA / "mediation-num-schema" / "exemple-valide.csv"


def shared(path):
    if not path.exists():
        pytest.fail(f"{path} is missing: the shared data directory must sit beside the clone (../shared/data)")
    return path


@pytest.fixture(scope="module")
def glpi_validator():
    schema = json.loads(shared(GLPI_SCHEMA).read_text())
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())


@pytest.fixture(scope="module")
def mediation_schema():
    return json.loads(shared(MEDIATION_SCHEMA).read_text())


def test_each_machine_exports_a_valid_glpi_inventory_filed_under_its_commune(seeded, glpi_validator):
    client = seeded.client("staff")
    for tag, insee in (("LUCH-001", LUCHON), ("LUCH-002", LUCHON), ("LOUR-001", "65286")):
        document = client.get(f"/tableau/export/glpi/{tag}.json").get_json()
        errors = [error.message for error in glpi_validator.iter_errors(document)]
        assert not errors, (tag, errors)
        assert document["tag"] == insee and document["itemtype"] == "Computer"
        assert document["content"]["bios"]["assettag"] == tag
        assert document["content"]["hardware"]["name"] == tag


def test_shared_placeholder_serials_are_left_out_of_glpi_so_it_never_merges_machines(seeded):
    client = seeded.client("staff")
    luch1 = client.get("/tableau/export/glpi/LUCH-001.json").get_json()
    luch2 = client.get("/tableau/export/glpi/LUCH-002.json").get_json()
    assert "ssn" not in luch1["content"]["bios"]  # "To be filled by O.E.M."
    assert luch2["content"]["bios"]["ssn"] == "CZC1234XYZ"
    assert luch1["content"]["hardware"]["memory"] == 4096
    assert luch1["content"]["storages"][0]["disksize"] == 250 * 10 ** 9 // 1024 ** 2


def test_the_whole_fleet_exports_valid_glpi_inventories(seeded, glpi_validator):
    documents = seeded.client("admin").get("/tableau/export/glpi.json").get_json()
    assert sorted(d["content"]["bios"]["assettag"] for d in documents) == ["LOUR-001", "LUCH-001", "LUCH-002"]
    for document in documents:
        assert not list(glpi_validator.iter_errors(document))
    mine = seeded.client("commune").get("/tableau/export/glpi.json").get_json()
    assert {d["tag"] for d in mine} == {LUCHON}


def test_the_glpi_validator_does_reject_a_broken_document(glpi_validator):
    assert list(glpi_validator.iter_errors({"content": {}}))  # no deviceid, no versionclient
    assert list(glpi_validator.iter_errors({"deviceid": "x", "content": {"versionclient": "v"}, "itemtype": "Kiosk"}))


def test_the_mediation_places_export_is_valid_against_the_national_schema(seeded, mediation_schema):
    from provisioning.fleet.exports.tableschema import validate_csv
    text = seeded.client("staff").get("/tableau/export/lieux-mediation-numerique.csv").get_data(as_text=True)
    assert validate_csv(text, mediation_schema) == []
    rows = list(csv.DictReader(io.StringIO(text)))
    luchon = next(row for row in rows if row["code_insee"] == LUCHON)
    assert luchon["horaires"] == "Mo 09:00-12:00,14:00-17:00; We 09:00-12:00"
    assert luchon["pivot"] == "21310042500012" and luchon["code_postal"] == "31110"
    assert len(rows) == 2


def test_our_table_schema_validator_accepts_the_standard_example_and_catches_errors(mediation_schema):
    from provisioning.fleet.exports.tableschema import validate_csv
    example = shared(MEDIATION_EXAMPLE).read_text(encoding="utf-8-sig")
    assert validate_csv(example, mediation_schema) == []
    lines = example.splitlines()
    header, row = lines[0], lines[1]
    broken = "\n".join([header, row.replace('"51100"', '"5110"', 1), row.replace('"2024-04-02"', '"02/04/2024"', 1)])
    problems = validate_csv(broken, mediation_schema)
    assert any("code_postal" in p for p in problems)
    assert any("date_maj" in p for p in problems)
    assert any("n'est pas unique" in p for p in problems)  # the same id twice
    missing = "\n".join([header, row.replace('"Anonymal"', '""', 1)])
    assert any("nom : valeur obligatoire" in p for p in validate_csv(missing, mediation_schema))


def test_the_kiosk_yaml_hours_reach_the_mediation_export(fresh_sqlite, mediation_schema):
    """``fleet commune-place config/demo`` copies the demo town hall's address and hours."""
    from dashboard_helpers import REPO_ROOT_FOR_TESTS
    from test_accounts import run_fleet
    from provisioning.fleet.exports.tableschema import validate_csv
    code, out, err = run_fleet(fresh_sqlite.url, "commune-place", str(REPO_ROOT_FOR_TESTS / "config" / "demo"),
                               "--siret", "21310042500012")
    assert code == 0, err
    text = fresh_sqlite.client("staff").get("/tableau/export/lieux-mediation-numerique.csv").get_data(as_text=True)
    assert validate_csv(text, mediation_schema) == []
    luchon = next(row for row in csv.DictReader(io.StringIO(text)) if row["code_insee"] == LUCHON)
    assert luchon["horaires"] == "Mo 09:00-12:00,14:00-17:00; Tu 09:00-12:00,14:00-17:00; We 09:00-12:00; " \
                                 "Th 09:00-12:00,14:00-17:00; Fr 09:00-12:00,14:00-16:00"
    assert luchon["adresse"] == "Mairie, allées d'Étigny, 31110 Bagnères-de-Luchon"


def read_csv(client, path):
    response = client.get(path)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data().decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def test_usage_csv_exports_write_small_counts_as_less_than_5(seeded):
    client = seeded.client("staff")
    tiles = {row[0]: row[2] for row in read_csv(client, "/tableau/export/usage/ouvertures-par-tuile.csv")[1:]}
    assert tiles["ameli"] == "7" and tiles["impots"] == "< 5" and tiles["caf"] == "4242"
    lengths = {row[0]: row[1] for row in read_csv(client, f"/tableau/export/usage/durees-de-session.csv?commune={LUCHON}")[1:]}
    assert lengths == {"moins de 5 min": "< 5", "5 à 15 min": "9", "15 à 30 min": "< 5", "30 min à 1 h": "< 5",
                       "1 h et plus": "< 5"}
    every_cell = [cell for path in ("sessions-par-jour", "sessions-par-commune", "ouvertures-par-tuile", "durees-de-session")
                  for row in read_csv(client, f"/tableau/export/usage/{path}.csv")[1:] for cell in row]
    assert not [cell for cell in every_cell if cell in {"0", "1", "2", "3", "4"}]


def test_usage_page_shows_small_counts_as_less_than_5(seeded):
    page = seeded.client("commune").get("/tableau/usage").get_data(as_text=True)
    assert "&lt; 5" in page
    assert "<td>2</td>" not in page and "<td>3</td>" not in page


def test_every_table_of_the_pages_has_its_csv(seeded):
    import re
    client = seeded.client("admin")
    for page in ("/tableau/usage", "/tableau/rapport", "/tableau/machines/LUCH-001", "/tableau/communes", "/tableau/"):
        html = client.get(page).get_data(as_text=True)
        tables = html.count("<table")
        links = re.findall(r'href="([^"]+\.csv[^"]*)"', html)
        assert len(links) >= tables, page
        for link in links:
            assert client.get(link.replace("&amp;", "&")).status_code == 200, link


def test_the_exports_page_lists_every_export_with_its_format(seeded):
    """Every download route of the server is on the exports page, and each listed link answers."""
    from provisioning.fleet.dashboard.exports_page import EXPORTS
    client = seeded.client("staff")
    html = client.get("/tableau/exports").get_data(as_text=True)
    routes = {rule.endpoint for rule in seeded.app.url_map.iter_rules() if rule.endpoint.startswith("exports.")}
    listed = {export.endpoint for export in EXPORTS} | {"exports.machine_csv", "exports.glpi_one"}
    assert routes <= listed, routes - listed
    assert "décimales avec une virgule" in html and "décimales avec un point" in html and "PDF" in html
    with seeded.app.test_request_context():
        urls = [export.url() for export in EXPORTS if export.endpoint]
    for url in urls:
        assert url in html.replace("&amp;", "&"), url
        assert client.get(url).status_code == 200, url
