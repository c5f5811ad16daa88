"""Issue 16, "À traiter d'abord": severities in plain French with what to do and the town hall's contact,
the version flag for older versions only, the staff's notes, and the daily status behind the 90-day
timeline (recorded by ``fleet suivi``)."""

from __future__ import annotations

import datetime as dt
import re
import time

import sqlalchemy as sa

from dashboard_helpers import checkin, csrf_token, inventory

NBSP = "\u00a0"


def row_of(html: str, tag: str) -> str:
    return re.search(rf"<tr>\s*<th scope=\"row\"><a [^>]+>{tag}</a>.*?</tr>", html, re.S).group(0)


def test_each_row_says_since_when_what_to_do_and_whom_to_call(seeded):
    html = seeded.client("staff").get("/tableau/").get_data(as_text=True)
    late = row_of(html, "LUCH-002")  # late for 3 days, and an older version: the version comes first
    assert "Version ancienne" in late and "La mise à jour ne s" in late
    assert "En retard" in late and f"depuis 3{NBSP}jours" in late
    assert "05 61 79 00 00" in late and "mailto:mairie@luchon.example" in late
    assert "Pas de contact enregistré" in row_of(html, "LOUR-001")  # Lourdes has no phone recorded
    assert "redémarre souvent : prévoir un passage" in row_of(html, "LOUR-001")  # it crashed 4 times this week
    assert "18/11" not in html and " UTC" not in html  # no raw timestamps


def test_only_versions_older_than_expected_are_flagged(fresh_sqlite):
    checkin(fresh_sqlite.app, fresh_sqlite.tokens["LUCH-001"], [inventory(40, "SN-NEW", version="1.10.0")])
    client = fresh_sqlite.client("staff")
    html = client.get("/tableau/").get_data(as_text=True)
    assert "Version du kiosque ancienne" not in row_of(html, "LUCH-001")  # newer than 1.0.0
    assert "Version du kiosque ancienne" in row_of(html, "LUCH-002")  # 0.9.0
    outdated = client.get("/tableau/?alerte=outdated").get_data(as_text=True)
    assert "LUCH-002" in outdated and "LUCH-001" not in outdated
    counts = dict((label.strip(), int(number)) for number, label in
                  re.findall(r'<span class="count-number">(\d+)</span>\s*([^<]+)</a>', html))
    assert counts["Version du kiosque ancienne"] == 1


def test_staff_write_a_note_a_commune_account_cannot(fresh_sqlite):
    staff = fresh_sqlite.client("staff")
    token = csrf_token(staff.get("/tableau/machines/LUCH-001").get_data(as_text=True))
    answer = staff.post("/tableau/machines/LUCH-001/note", data={"csrf_token": token, "text": "Jean passe jeudi"})
    assert answer.status_code == 302
    page = staff.get("/tableau/machines/LUCH-001").get_data(as_text=True)
    assert "Jean passe jeudi" in page and "staff, le" in page
    too_long = staff.post("/tableau/machines/LUCH-001/note", data={"csrf_token": token, "text": "x" * 501},
                          follow_redirects=True).get_data(as_text=True)
    assert "500 caractères au plus" in too_long and "Jean passe jeudi" in too_long  # the old note is kept
    commune = fresh_sqlite.client("commune")
    page = commune.get("/tableau/machines/LUCH-001").get_data(as_text=True)
    assert "Jean passe jeudi" in page and "Enregistrer la note" not in page
    assert commune.post("/tableau/machines/LUCH-001/note",
                        data={"csrf_token": csrf_token(page), "text": "non"}).status_code == 403


def test_fleet_suivi_records_the_worst_status_of_the_day(fresh_sqlite):
    from provisioning.fleet.cli import main
    from provisioning.fleet.dashboard.followup_queries import record_statuses
    from provisioning.fleet.store.followup_schema import machine_status_days
    assert main(["--database-url", fresh_sqlite.url, "suivi"]) == 0
    engine = fresh_sqlite.app.extensions["fleet_engine"]
    with engine.connect() as conn:
        recorded = dict(conn.execute(sa.select(machine_status_days.c.asset_tag, machine_status_days.c.status)).all())
    assert recorded == {"LUCH-001": "online", "LUCH-002": "late", "LOUR-001": "online"}
    later = time.time() + 3 * 3600  # LOUR-001 (expected hourly) silent for 3 h: late, then online again
    with engine.begin() as conn:
        record_statuses(conn, later)
        record_statuses(conn, time.time())
        worst = conn.execute(sa.select(machine_status_days.c.status).where(
            machine_status_days.c.asset_tag == "LOUR-001",
            machine_status_days.c.day == dt.datetime.fromtimestamp(later, dt.timezone.utc).date().isoformat())
        ).scalar_one()
    assert worst in ("late", "offline")  # an "online" run later that day does not hide it
    page = fresh_sqlite.client("staff").get("/tableau/machines/LUCH-002").get_data(as_text=True)
    assert f"en retard 1{NBSP}jour" in page
    assert "Disponibilité sur 90 jours" in page and 'class="day-late"' in page


def test_the_monthly_availability_matches_the_daily_statuses(fresh_sqlite):
    """The report reads each commune's availability per month (kept by ``fleet suivi`` with the daily
    statuses): it must equal the sums of the daily statuses, as a day's status worsens and days pass."""
    from provisioning.fleet.dashboard.followup_queries import record_statuses
    from provisioning.fleet.store.followup_schema import availability_monthly, machine_status_days
    from provisioning.fleet.store.schema import devices
    engine = fresh_sqlite.app.extensions["fleet_engine"]
    now = time.time()
    with engine.begin() as conn:
        for moment in (now, now + 3 * 3600, now + 30 * 3600, now + 40 * 86400, now + 40 * 86400 + 9 * 3600):
            record_statuses(conn, moment)  # hours later: LOUR-001 late, then offline; days later: all missing
        daily = machine_status_days.join(devices, devices.c.asset_tag == machine_status_days.c.asset_tag)
        month = sa.func.substr(machine_status_days.c.day, 1, 7)
        up = sa.func.sum(sa.case((machine_status_days.c.status.in_(("online", "late")), 1), else_=0))
        expected = {(m, insee): (int(a), int(n)) for m, insee, a, n in conn.execute(
            sa.select(month, devices.c.commune_insee, up, sa.func.count()).select_from(daily)
            .group_by(month, devices.c.commune_insee))}
        kept = {(m, insee): (a, n) for m, insee, a, n in conn.execute(sa.select(
            availability_monthly.c.month, availability_monthly.c.commune_insee, availability_monthly.c.available,
            availability_monthly.c.recorded))}
        statuses = set(conn.execute(sa.select(machine_status_days.c.status)).scalars())
    assert kept == expected
    assert {"online", "offline"} <= statuses  # the sums were checked against days that count and days that do not
