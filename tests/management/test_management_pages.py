"""The staff's bus-calendar page (real app, real login, real forms): an edit reaches the kiosk after one
check-in, a wrong entry is refused with the kiosk's own French messages and publishes nothing, the history
says who changed what and when, a rollback publishes the older content again, a commune account is
refused (403)."""

from __future__ import annotations

from kiosk.agent.bundles import apply_staged, staged_version
from management_helpers import LUCHON, csrf_token
from test_bundles import loaded_visits

PAGE = f"/tableau/communes/{LUCHON}/bus"


def submit(client, rows: list[tuple[str, str, str]]):
    token = csrf_token(client.get(PAGE).get_data(as_text=True))
    data = {"csrf_token": token}
    for index, (date, hours, place) in enumerate(rows):
        data.update({f"date-{index}": date, f"hours-{index}": hours, f"place-{index}": place})
    return client.post(PAGE, data=data)


def test_a_staff_edit_reaches_the_kiosk_after_one_checkin(managed_fleet):
    fleet = managed_fleet
    assert fleet.checkin()
    apply_staged(fleet.bundle_dir)
    staff = fleet.staff()
    answer = submit(staff, [("2027-04-01", "09:00-11:30", "Salle des fêtes")])
    assert answer.status_code == 302
    assert fleet.checkin()
    assert staged_version(fleet.bundle_dir) == 2
    apply_staged(fleet.bundle_dir)
    assert loaded_visits(fleet) == [("2027-04-01", "09:00-11:30", "Salle des fêtes")]
    page = staff.get(PAGE).get_data(as_text=True)
    assert "Calendrier du bus" in page and ">staff<" in page and "Salle des fêtes" in page


def test_a_wrong_entry_is_refused_in_french_and_publishes_nothing(managed_fleet):
    from provisioning.fleet import management
    fleet = managed_fleet
    staff = fleet.staff()
    answer = submit(staff, [("2027-04-01", "11:00-09:00", "Salle des fêtes"), ("2027-04-08", "09:00-10:00", "")])
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert "plage horaire invalide « 11:00-09:00 »" in page
    assert "passage 2, place : ce texte est vide" in page
    assert 'value="11:00-09:00"' in page  # what was typed is kept for correcting
    assert [item.version for item in management.history(fleet.engine, LUCHON)] == [1]


def test_a_rollback_publishes_the_older_content_again(managed_fleet):
    fleet = managed_fleet
    staff = fleet.staff()
    assert fleet.checkin()
    apply_staged(fleet.bundle_dir)
    original = loaded_visits(fleet)
    assert submit(staff, [("2027-05-06", "14:00-16:00", "Parking")]).status_code == 302
    token = csrf_token(staff.get(PAGE).get_data(as_text=True))
    answer = staff.post(f"/tableau/communes/{LUCHON}/configuration/1/retour", data={"csrf_token": token})
    assert answer.status_code == 302
    assert fleet.checkin()
    assert staged_version(fleet.bundle_dir) == 3
    apply_staged(fleet.bundle_dir)
    assert loaded_visits(fleet) == original
    assert "Retour à la version 1" in staff.get(PAGE).get_data(as_text=True)
    # The calendar the page edits is the rolled-back one.
    form = staff.get(PAGE).get_data(as_text=True).split("<h2>")[0]
    assert 'value="Parking"' not in form and 'value="Parking des thermes"' in form


def test_a_commune_account_may_not_edit_the_bus_calendar(managed_fleet):
    client = managed_fleet.staff("commune")
    assert client.get(PAGE).status_code == 403


def test_the_configuration_page_lists_each_commune_with_its_version_in_force(managed_fleet):
    staff = managed_fleet.staff()
    page = staff.get("/tableau/configuration").get_data(as_text=True)
    assert "Bagnères-de-Luchon (31042)" in page and "<td>1</td>" in page
    assert 'aria-current="page">Configuration</a>' in page


HOURS = f"/tableau/communes/{LUCHON}/horaires"


def test_a_commune_account_changes_its_own_opening_hours_and_the_kiosk_gets_them(managed_fleet):
    from kiosk.config import load_config
    from kiosk.agent.bundles import active_config_dir
    fleet = managed_fleet
    assert fleet.checkin()
    apply_staged(fleet.bundle_dir)
    commune = fleet.staff("commune")
    token = csrf_token(commune.get(HOURS).get_data(as_text=True))
    wrong = commune.post(HOURS, data={"csrf_token": token, "mo": "09:00-12:00, 14h-17h"})
    assert wrong.status_code == 400
    assert "Lundi, plage 2 : plage horaire invalide « 14h-17h »" in wrong.get_data(as_text=True)
    answer = commune.post(HOURS, data={"csrf_token": token, "mo": "08:30-12:00, 13:30-18:00", "sa": "09:00-12:00"})
    assert answer.status_code == 302
    assert fleet.checkin() and staged_version(fleet.bundle_dir) == 2
    apply_staged(fleet.bundle_dir)
    hours = load_config(active_config_dir(fleet.bundle_dir, fleet.config_dir)).opening_hours
    assert hours.mo == ["08:30-12:00", "13:30-18:00"] and hours.sa == ["09:00-12:00"] and hours.tu == []
    # Nothing else is theirs to change: the bus calendar, the rollback and other communes stay closed.
    assert commune.get(PAGE).status_code == 403
    assert commune.post(f"/tableau/communes/{LUCHON}/configuration/1/retour", data={"csrf_token": token}).status_code == 403
    assert commune.get("/tableau/communes/65286/horaires").status_code == 404
