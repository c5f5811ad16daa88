"""What the overview and the read model show: statuses relative to each commune's connection profile,
health flags, counts computed over the whole filtered fleet, and exact usage under replayed check-ins."""

from __future__ import annotations

import re
import time

import pytest
import sqlalchemy as sa

from dashboard_helpers import LUCHON, checkin, health, today, usage


def overview(client, query: str = "") -> str:
    response = client.get(f"/tableau/{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def row_of(html: str, tag: str) -> str:
    return re.search(rf"<tr>\s*<th scope=\"row\"><a [^>]+>{tag}</a>.*?</tr>", html, re.S).group(0)


def test_a_zone_blanche_silent_for_three_days_is_late_not_missing(seeded):
    html = overview(seeded.client("staff"))
    assert "En retard" in row_of(html, "LUCH-002")
    assert "En ligne" in row_of(html, "LUCH-001")
    assert "En ligne" in row_of(html, "LOUR-001")


@pytest.mark.parametrize("age_s, interval_s, expected", [
    (None, 3600, "missing"), (60, 300, "online"), (900, 300, "late"), (3 * 3600, 300, "offline"),
    (31 * 86400, 300, "missing"), (30 * 3600, 86400, "online"), (3 * 86400, 86400, "late"),
    (8 * 86400, 86400, "offline"),
])
def test_status_follows_the_connection_profile(age_s, interval_s, expected):
    from provisioning.fleet.dashboard.status import status_expression
    from provisioning.fleet.store.schema import communes, devices, metadata
    engine = sa.create_engine("sqlite://")
    now = 2_000_000_000.0
    metadata.create_all(engine, tables=[communes, devices])
    with engine.begin() as conn:
        conn.execute(communes.insert().values(insee="31042", name="Luchon", expected_interval_s=interval_s, created_at=0))
        conn.execute(devices.insert().values(asset_tag="LUCH-001", commune_insee="31042", enrolled_at=0,
                                             last_seen_at=None if age_s is None else now - age_s))
        value = conn.execute(sa.select(status_expression(now)).select_from(
            devices.join(communes, communes.c.insee == devices.c.commune_insee))).scalar_one()
    engine.dispose()
    assert value == expected


def test_health_flags_and_counts(seeded):
    client = seeded.client("admin")
    html = overview(client)
    assert "Disque plein" in row_of(html, "LOUR-001")
    assert "Plantages répétés" in row_of(html, "LOUR-001")
    assert "Mémoire saturée" in row_of(html, "LUCH-002")
    assert "Version du kiosque ancienne" in row_of(html, "LUCH-002")
    assert "Aucune" in row_of(html, "LUCH-001")
    counts = dict((label.strip(), int(number)) for number, label in
                  re.findall(r'<span class="count-number">(\d+)</span>\s*([^<]+)</a>', html))
    assert counts["en ligne"] == 2 and counts["en retard"] == 1 and counts["disparue"] == 0
    assert counts["Disque plein (≥ 90 %)"] == 1


def test_filters_search_and_pagination(seeded):
    client = seeded.client("admin")
    late = overview(client, "?statut=late")
    assert "LUCH-002" in late and "LUCH-001" not in late and "LOUR-001" not in late
    assert "1\u00a0machine correspond à ces critères" in late
    disk = overview(client, "?alerte=disk")
    assert "LOUR-001" in disk and "LUCH-00" not in disk
    assert "LOUR-001" not in overview(client, f"?commune={LUCHON}")
    assert "LUCH-001" in overview(client, "?q=luchon") and "LOUR-001" not in overview(client, "?q=luchon")
    assert "Aucune machine ne correspond" in overview(client, "?cycle=recycled")


def test_the_overview_pages_50_machines_at_a_time(seeded):
    from provisioning.fleet.dashboard.fleet_queries import OverviewFilters, overview as query
    with seeded.app.extensions["fleet_engine"].connect() as conn:
        first = query(conn, OverviewFilters(), time.time(), "1.0.0", None, page_size=2)
        second = query(conn, OverviewFilters(page=2), time.time(), "1.0.0", None, page_size=2)
    assert first["pages"] == 2 and len(first["rows"]) == 2 and len(second["rows"]) == 1
    assert first["total"] == second["total"] == 3


def commune_sessions(app, insee: str, day: str) -> int:
    from provisioning.fleet.store.readmodel import fold_usage
    from provisioning.fleet.store.staff_schema import usage_commune_daily as table
    fold_usage(app.extensions["fleet_engine"])  # what the usage pages do before they read
    with app.extensions["fleet_engine"].connect() as conn:
        return conn.execute(sa.select(table.c.count).where(
            table.c.commune_insee == insee, table.c.day == day, table.c.metric == "sessions", table.c.key == "")).scalar()


def test_a_replayed_checkin_counts_nothing_twice_in_the_commune_figures(fresh):
    day = today(-2)
    records = [usage(10, day, [["sessions", "", 8]]), health(11, time.time() - 30, disk=91.0)]
    checkin(fresh.app, fresh.tokens["LUCH-001"], records)
    checkin(fresh.app, fresh.tokens["LUCH-001"], records)  # replay: acknowledged again, stored once
    checkin(fresh.app, fresh.tokens["LUCH-002"], [usage(10, day, [["sessions", "", 5]])])
    assert commune_sessions(fresh.app, LUCHON, day) == 13
    assert "Disque plein" in row_of(overview(fresh.client("staff")), "LUCH-001")


def test_an_older_sample_arriving_late_does_not_replace_the_latest_health(fresh):
    checkin(fresh.app, fresh.tokens["LUCH-001"], [health(20, time.time() - 10, disk=50.0)])
    checkin(fresh.app, fresh.tokens["LUCH-001"], [health(21, time.time() - 7200, disk=99.0)])
    assert "Disque plein" not in row_of(overview(fresh.client("staff")), "LUCH-001")


def test_the_machine_page_shows_inventory_life_cycle_history_and_restarts(seeded):
    html = seeded.client("staff").get("/tableau/machines/LUCH-001").get_data(as_text=True)
    for text in ("OptiPlex 7010", "Intel(R) Core(TM) i5-3470", "Debian GNU/Linux 12", "Cycle de vie",
                 "Santé sur 90 jours", "Démarrages du kiosque", "Renouveler le jeton", "Révoquer le jeton",
                 "une fois par jour", '<svg class="chart"', "Disponibilité sur 90 jours", "Note de l&#39;équipe"):
        assert text in html, text
    assert html.count("<table") == 3
    # Actions first; the long tables (90 rows each) folded away below them.
    assert html.index("Renouveler le jeton") < html.index("Disponibilité sur 90 jours") < html.index("<table")
    assert all(html.rfind("<details", 0, index) > html.rfind("</details>", 0, index)
               for index in [m.start() for m in re.finditer("<table", html)])


def test_the_yearly_report_has_the_funders_figures(seeded):
    html = seeded.client("admin").get("/tableau/rapport").get_data(as_text=True)
    for label in ("Ordinateurs installés dans les mairies", "Communes servies", "Sessions",
                  "Heures d&#39;utilisation (estimation)", "Pages imprimées",
                  "Ordinateurs reconditionnés remis dans l&#39;année"):
        assert label in html, label
    with seeded.client("admin").get("/tableau/static/dashboard.css") as css:
        assert "@media print" in css.get_data(as_text=True)


def test_usage_retention_also_prunes_the_dashboard_counters(fresh_sqlite):
    from provisioning.fleet.store.retention import prune
    from provisioning.fleet.settings import Settings
    old = today(-40)
    checkin(fresh_sqlite.app, fresh_sqlite.tokens["LUCH-001"], [usage(30, old, [["sessions", "", 9]])])
    assert commune_sessions(fresh_sqlite.app, LUCHON, old) == 9
    removed = prune(fresh_sqlite.app.extensions["fleet_engine"], Settings(testing=True, usage_retention_days=30))
    assert removed["dash_usage_commune_daily"] == 1 and removed["dash_usage_fleet_daily"] == 1
    assert commune_sessions(fresh_sqlite.app, LUCHON, old) is None
    assert commune_sessions(fresh_sqlite.app, LUCHON, today()) == 12


def test_every_dashboard_setting_is_documented_for_staff():
    from pathlib import Path
    text = (Path(__file__).resolve().parents[2] / "docs" / "tableau-de-bord.md").read_text(encoding="utf-8")
    dashboard_settings = ("metrics_token", "current_kiosk_version", "catalog_path", "mediation_source",
                          "session_cookie_secure", "trusted_proxies")
    assert [name for name in dashboard_settings if f"FLEET_{name.upper()}" not in text] == []


def test_the_yearly_report_suppresses_small_use_figures_but_not_machine_counts(seeded):
    import csv
    import io
    client = seeded.client("commune")
    text = client.get("/tableau/export/rapport/rapport-annuel.csv").get_data().decode("utf-8-sig")
    figures = dict(csv.reader(io.StringIO(text), delimiter=";"))
    assert figures["Ordinateurs installés dans les mairies"] == "2"
    assert figures["Communes servies"] == "1"
    assert figures["Sessions"] == "15" and figures["Pages imprimées"] == "6"
    assert figures["Heures d'utilisation (estimation)"] == "< 5"


def test_a_donated_machine_is_recorded_before_any_enrolment(fresh_sqlite):
    from dashboard_helpers import csrf_token
    client = fresh_sqlite.client("staff")
    token = csrf_token(client.get("/tableau/materiel").get_data(as_text=True))
    bad = client.post("/tableau/materiel", data={"csrf_token": token, "asset_tag": "don 1", "lifecycle_state": "donated"})
    assert bad.status_code == 400 and "majuscules, chiffres et tirets" in bad.get_data(as_text=True)
    done = client.post("/tableau/materiel", data={
        "csrf_token": token, "asset_tag": "DON-0001", "lifecycle_state": "refurbished", "donor": "Cabinet Dupont",
        "intake_date": "2026-10-02", "erasure_certificate": "EFF-2026-0107"})
    assert done.status_code == 302
    page = client.get("/tableau/materiel?cycle=refurbished").get_data(as_text=True)
    assert "DON-0001" in page and "Cabinet Dupont" in page and "EFF-2026-0107" in page and "LUCH-001" not in page
    assert "DON-0001" not in fresh_sqlite.client("commune").get("/tableau/materiel").get_data(as_text=True)
    report = client.get("/tableau/export/rapport/parc-par-etape.csv").get_data().decode("utf-8-sig")
    assert '"Reconditionnée";0' in report  # the report counts enrolled machines; the register holds the rest
