"""The funder's report (issue 16 point 3): per commune and per year, with the previous year, as a page, CSVs
and a PDF made by WeasyPrint, with the association's name and logo from the settings. The PDF is rendered
to PNG by poppler's pdftoppm (kept in test-artifacts/dashboard/) and its text read back by pdftotext."""

from __future__ import annotations

import base64
import csv
import dataclasses
import datetime as dt
import io
import subprocess

import pytest

from dashboard_helpers import LOURDES, LUCHON, today, usage

# A 1×1 PNG: the association's logo.
LOGO = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
NNBSP, NBSP = "\u202f", "\u00a0"


@pytest.fixture
def report_fleet(fresh_sqlite, tmp_path):
    logo = tmp_path / "logo.png"
    logo.write_bytes(LOGO)
    app = fresh_sqlite.app
    app.config["FLEET_SETTINGS"] = dataclasses.replace(
        app.config["FLEET_SETTINGS"], association_name="Numérique Solidaire Pyrénées", association_logo_path=str(logo))
    return fresh_sqlite


def pdf_text(pdf: bytes, tmp_path, artifacts_dir, name: str) -> str:
    source = tmp_path / f"{name}.pdf"
    source.write_bytes(pdf)
    target = artifacts_dir / "dashboard"
    target.mkdir(exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(source), str(target / name)],
                   check=True, timeout=120)
    png = next(target.glob(f"{name}-*1.png"))
    from PIL import Image
    with Image.open(png) as image:
        assert image.width > 400 and len(image.convert("L").getcolors(1 << 16) or []) > 2  # not a blank page
    return subprocess.run(["pdftotext", "-layout", str(source), "-"], check=True, capture_output=True,
                          text=True, timeout=120).stdout


def test_the_report_page_has_each_commune_and_the_previous_year(report_fleet):
    html = report_fleet.client("staff").get("/tableau/rapport").get_data(as_text=True)
    for text in ("Chaque commune", "Bagnères-de-Luchon", "Lourdes", "Comparaison avec l&#39;année précédente",
                 "Services ouverts par catégorie", "Numérique Solidaire Pyrénées", 'src="data:image/png;base64,',
                 "Télécharger le rapport (PDF"):
        assert text in html, text


def test_the_report_pdf_names_the_communes_and_their_figures(report_fleet, tmp_path, artifacts_dir):
    response = report_fleet.client("staff").get("/tableau/export/rapport.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    text = pdf_text(response.data, tmp_path, artifacts_dir, "report-pdf")
    flat = text.replace(NNBSP, " ").replace(NBSP, " ")
    assert "Numérique Solidaire Pyrénées" in flat and "Rapport d’activité" in flat or "Rapport d'activité" in flat
    assert "Bagnères-de-Luchon" in flat and "Lourdes" in flat
    lourdes = next(line for line in flat.splitlines() if "Lourdes" in line and LOURDES in line)
    assert "4 242" in lourdes  # Lourdes' sessions this year
    luchon = next(line for line in flat.splitlines() if "Bagnères-de-Luchon" in line and LUCHON in line)
    assert "15" in luchon  # Luchon: 12 + 3 sessions
    assert "Santé" in flat or "Aides et démarches" in flat or "Services propres aux communes" in flat


def test_a_commune_account_gets_its_own_report_only(report_fleet, tmp_path, artifacts_dir):
    client = report_fleet.client("commune")
    text = pdf_text(client.get("/tableau/export/rapport.pdf").data, tmp_path, artifacts_dir, "report-pdf-commune")
    assert "Bagnères-de-Luchon" in text and "Lourdes" not in text and "4242" not in text.replace(NNBSP, "")
    assert client.get(f"/tableau/export/rapport.pdf?commune={LOURDES}").status_code == 404


def test_the_report_csv_per_commune_compares_with_last_year(report_fleet):
    from dashboard_helpers import checkin
    last_year = today().replace(today()[:4], str(int(today()[:4]) - 1), 1)
    checkin(report_fleet.app, report_fleet.tokens["LOUR-001"], [usage(50, last_year, [["sessions", "", 2000]])])
    text = report_fleet.client("staff").get("/tableau/export/rapport/rapport-par-commune.csv").get_data().decode("utf-8-sig")
    rows = {row[1]: row for row in csv.reader(io.StringIO(text), delimiter=";")}
    assert rows[LOURDES][3:6] == ["4242", "2000", "112,1"]  # +112.1 %, with a French decimal comma
    assert rows[LUCHON][4] == "< 5" and rows[LUCHON][5] == ""  # no evolution computed from a hidden count


def test_a_long_report_puts_the_figures_first_and_each_commune_in_an_annex_with_its_header_on_each_page(
        report_fleet, tmp_path, artifacts_dir):
    """150 more communes: the key figures and the comparison open the document; the communes follow in an
    annex of several pages, each starting with the listing's header and numbered « page N sur M »."""
    from provisioning.fleet.store.schema import communes
    from provisioning.fleet.store.staff_schema import usage_commune_monthly
    added = [(f"{10000 + index:05d}", f"Commune-d-essai-{index:03d}", 10 + index) for index in range(150)]
    with report_fleet.app.extensions["fleet_engine"].begin() as conn:
        conn.execute(communes.insert(), [{"insee": insee, "name": name, "expected_interval_s": 3600, "created_at": 0}
                                         for insee, name, _ in added])
        conn.execute(usage_commune_monthly.insert(), [
            {"metric": "sessions", "month": today()[:7], "commune_insee": insee, "key": "", "count": sessions}
            for insee, _, sessions in added])
    pdf = report_fleet.client("staff").get("/tableau/export/rapport.pdf").data
    pdf_text(pdf, tmp_path, artifacts_dir, "report-pdf-long")
    source = tmp_path / "report-pdf-long.pdf"
    pages = int(next(line.split()[1] for line in subprocess.run(["pdfinfo", str(source)], capture_output=True,
                                                                  text=True, check=True).stdout.splitlines()
                     if line.startswith("Pages:")))

    def page(number: int) -> str:
        return subprocess.run(["pdftotext", "-layout", "-f", str(number), "-l", str(number), str(source), "-"],
                              capture_output=True, text=True, check=True).stdout.replace(NNBSP, " ").replace(NBSP, " ")

    texts = [page(number) for number in range(1, pages + 1)]
    assert "Comparaison avec l" in texts[0] and "Commune-d-essai" not in texts[0]
    annex = [number for number, text in enumerate(texts, 1) if "Commune-d-essai" in text]
    assert len(annex) >= 2, pages
    for number in annex:
        header = next(line for line in texts[number - 1].splitlines() if line.lstrip().startswith("Commune "))
        assert "INSEE" in header and "imprimées" in texts[number - 1], texts[number - 1][:600]
        assert f"page {number} sur {pages}" in texts[number - 1]
    listed = [line for text in texts for line in text.splitlines() if "Commune-d-essai-" in line]
    assert len(listed) == 150  # each commune once, on one line with its figures
    row = next(line for line in listed if "Commune-d-essai-149" in line)
    assert row.split()[1:4] == ["10149", "0", "159"], row  # INSEE, machines, sessions this year
    assert any(f"Le détail de chaque commune est en annexe, page {annex[0]}." in text for text in texts[:2])


def test_the_pdf_listing_aligns_every_column_and_cuts_only_names_longer_than_frances_longest():
    from provisioning.fleet.dashboard.figures import FigureTable
    from provisioning.fleet.exports.pdf_listing import FIRST_COLUMN_MAX, LARGEST_PT, listing
    headers = ["Commune", "Code INSEE", "Ordinateurs", "Sessions 2026", "Sessions 2025", "Évolution (%)",
               "Pages imprimées", "Disponibilité (%)"]
    longest = "Saint-Remy-en-Bouzemont-Saint-Genest-et-Isson"  # France's longest name: 45 characters
    table = FigureTable("t", "Chaque commune", headers, [
        ["Lourdes", LOURDES, 3, 4242, 2000, 112.1, 4242, 85.25],
        [longest, "51522", 1, 2, 0, None, 12, None],
        ["X" * 60, "99999", 12, 12345, 12000, 2.9, 7, 100.0]], frozenset({3, 4, 6}))
    result = listing(table)
    header = result.header.splitlines()
    assert header[-1].startswith("Commune ") and "INSEE" in header[-1] and any("Disponi-" in line for line in header)
    assert [row[:FIRST_COLUMN_MAX].rstrip() for row in result.rows] == ["Lourdes", longest, "X" * 44 + "…"]
    assert len({len(line) for line in header[-1:] + result.rows}) == 1  # right-aligned: every line ends together
    assert [cell for cell in result.rows[0].split(" ") if cell][1:] == [LOURDES, "3", "4" + NNBSP + "242", "2" + NNBSP + "000", "112,1",
                                          "4" + NNBSP + "242", "85,2"]
    assert "< 5" in result.rows[1] and result.rows[1].endswith("—")  # small counts hidden as on the page
    assert 6 <= result.font_size_pt < LARGEST_PT  # 45-character names: a smaller type to fit the page


def test_the_page_ranks_the_most_active_communes_in_the_database_as_the_full_table_would(fresh):
    """The page reads only its 50 communes (a national fleet has thousands): the same 50 rows, same figures,
    same order, as ranking the whole table — ties broken by INSEE code, communes with machines but no
    session last; and a small fleet is read whole, as before."""
    from provisioning.fleet.dashboard import report_queries
    from provisioning.fleet.store.schema import communes
    from provisioning.fleet.store.staff_schema import usage_commune_monthly
    year = int(today()[:4])
    engine = fresh.app.extensions["fleet_engine"]
    with engine.connect() as conn:
        small = report_queries.by_commune(conn, year, None)
        assert report_queries.most_active_by_commune(conn, year, None, 50) == report_queries.most_active(small, 50)
    added = [(f"{20000 + index:05d}", f"Essai-{index:03d}", 7 + index % 9) for index in range(80)]  # many ties
    with engine.begin() as conn:
        conn.execute(communes.insert(), [{"insee": insee, "name": name, "expected_interval_s": 3600, "created_at": 0}
                                         for insee, name, _ in added])
        conn.execute(usage_commune_monthly.insert(), [
            {"metric": metric, "month": today()[:7], "commune_insee": insee, "key": "", "count": count}
            for insee, _, sessions in added for metric, count in (("sessions", sessions), ("pages_printed", 3))])
    with engine.connect() as conn:
        full = report_queries.most_active(report_queries.by_commune(conn, year, None), 50)
        page = report_queries.most_active_by_commune(conn, year, None, 50)
    assert len(page.rows) == 50 and page.rows == full.rows and page.title == full.title
    assert page.headers == full.headers


def test_the_commune_picker_escapes_names_and_marks_only_the_chosen_commune():
    from provisioning.fleet.dashboard.commune_picker import commune_options
    choices = [("31042", "Bagnères-de-Luchon"), ("65286", 'Lourdes "<script>"'), ("65287", "Lourdes-bis")]
    markup = str(commune_options(choices, "65286"))
    assert markup.count("<option") == 3 and markup.count(" selected") == 1
    assert '<option value="65286" selected>Lourdes &#34;&lt;script&gt;&#34; (65286)</option>' in markup
    assert '<option value="31042">' in str(commune_options(choices, None)) and " selected" not in str(
        commune_options(choices, None))
    assert " selected" not in str(commune_options(choices, "99999"))  # a code that is not in the list


def test_the_usage_page_ranks_its_communes_in_the_database_over_whole_months_and_edge_days(fresh):
    """Sessions per commune summed by the database from the monthly counters (whole months) and the daily
    ones (the edges): known totals, the top 50 equal to ranking the whole table (ties by INSEE code), and
    the title says when communes were left out."""
    from provisioning.fleet.dashboard import usage_queries
    from provisioning.fleet.store.schema import communes
    from provisioning.fleet.store.staff_schema import usage_commune_daily, usage_commune_monthly
    this_month = dt.date.fromisoformat(today()).replace(day=1)
    previous = (this_month - dt.timedelta(days=1)).replace(day=1)
    edge_day = (previous - dt.timedelta(days=3)).isoformat()  # the last days of the month before: an edge
    added = [(f"{30000 + index:05d}", f"Essai-{index:03d}", 7 + index % 9) for index in range(80)]
    engine = fresh.app.extensions["fleet_engine"]
    with engine.begin() as conn:
        conn.execute(communes.insert(), [{"insee": insee, "name": name, "expected_interval_s": 3600, "created_at": 0}
                                         for insee, name, _ in added])
        conn.execute(usage_commune_monthly.insert(), [
            {"metric": metric, "month": previous.isoformat()[:7], "commune_insee": insee, "key": "", "count": count}
            for insee, _, sessions in added for metric, count in (("sessions", sessions), ("pages_printed", 2))])
        conn.execute(usage_commune_daily.insert(), [
            {"commune_insee": insee, "day": edge_day, "metric": "sessions", "key": "", "count": 100}
            for insee, _, _ in added[:3]])
    start, end = edge_day, (this_month - dt.timedelta(days=1)).isoformat()
    with engine.connect() as conn:
        everything = usage_queries.by_commune(conn, start, end, None)
        top = usage_queries.by_commune(conn, start, end, None, limit=50)
        alone = usage_queries.by_commune(conn, start, end, added[1][0])
    totals = {row[0]: (row[2], row[3]) for row in everything.rows}
    assert totals[added[0][0]] == (107, 2) and totals[added[5][0]] == (12, 2)  # an edge day + the month; the month
    expected = sorted(sorted(everything.rows, key=lambda row: (-row[2], row[0]))[:50], key=lambda row: row[1])
    assert top.rows == expected and "les 50 communes les plus actives" in top.title
    assert "plus actives" not in everything.title
    assert [row[:3] for row in alone.rows] == [[added[1][0], added[1][1], 108]]
