"""The readable difference between two bundle versions (issue 12): which field changed, old → new, in
French, in the version history of the bus-calendar page (real app, real login, real forms)."""

from __future__ import annotations

import copy
import html

from management_helpers import LUCHON, csrf_token, demo_site
from test_management_pages import submit

from provisioning.fleet.dashboard.bundle_diff import Change, differences


def test_each_changed_field_is_named_in_french_with_its_old_and_new_value():
    old = demo_site()
    new = copy.deepcopy(old)
    new["opening_hours"]["mo"] = ["09:00-12:00"]
    new["help"]["bus_visits"].insert(1, {"date": "2026-12-10", "hours": "09:30-12:00", "place": "Place de la mairie"})
    removed = new["help"]["bus_visits"].pop()
    new["idle"]["warning_after_s"] = 240
    new["tiles"] = [tile for tile in new["tiles"] if tile.get("service") != "msa"]
    new["tiles"][-1]["label"] = "Mairie"
    del new["printer"]
    changes = differences(old, new)
    assert Change("Horaires d'ouverture › lundi", "09:00-12:00, 14:00-17:00", "09:00-12:00") in changes
    assert Change("Aide › passages du bus", "—", "10 décembre 2026, 09:30-12:00, Place de la mairie") in changes
    assert Change("Aide › passages du bus", f"7 janvier 2027, {removed['hours']}, {removed['place']}", "—") in changes
    assert Change("Mise en veille › avertissement après (secondes)", "300", "240") in changes
    assert Change("Tuiles › msa", "montrée", "absente") in changes
    assert Change("Tuiles › mairie › titre", "Le site de la mairie", "Mairie") in changes
    assert Change("Imprimante › nom", "mairie", "—") in changes
    assert len(changes) == 8  # the visits that did not change are not listed, even though they moved
    assert differences(old, copy.deepcopy(old)) == []


def test_the_history_page_shows_what_each_version_changed(managed_fleet):
    staff = managed_fleet.staff()
    assert submit(staff, [("2026-12-03", "09:30-12:00", "Place de la mairie"),
                          ("2027-01-14", "14:00-16:00", "Salle des fêtes")]).status_code == 302
    commune = managed_fleet.staff("commune")
    hours = f"/tableau/communes/{LUCHON}/horaires"
    token = csrf_token(commune.get(hours).get_data(as_text=True))
    assert commune.post(hours, data={"csrf_token": token, "mo": "08:30-12:00"}).status_code == 302
    page = html.unescape(staff.get(f"/tableau/communes/{LUCHON}/bus").get_data(as_text=True))
    assert "<strong>Horaires d'ouverture › lundi</strong> : 09:00-12:00, 14:00-17:00 → 08:30-12:00" in page
    assert "<strong>Aide › passages du bus</strong> : — → 14 janvier 2027, 14:00-16:00, Salle des fêtes" in page
    assert "<strong>Aide › passages du bus</strong> : 17 décembre 2026, 09:30-12:00, Place de la mairie → —" in page
    assert page.count("Ce qui a changé") == 2  # versions 3 and 2; version 1 has nothing before it
