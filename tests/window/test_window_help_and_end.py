""""Aide" over any page, and "Terminer ma session" as a decision, in the real window (in-process kiosk).

- From a third-party page (an allowed loopback host) with a typed field: "Aide" shows the shell's help
  over it, "Fermer l’aide" (the link in the help page, clicked for real) returns to the same page,
  never reloaded, the typed text still there.
- "Terminer ma session" asks first, listing what will be erased; "Non, je continue" keeps everything;
  "Imprimer mes documents d’abord" sends them to the private CUPS, then asks again; "Oui, tout effacer"
  wipes and shows the shell's session-ended page, then the home.
"""

from __future__ import annotations

import pytest

from test_window_printing import all_jobs, cups, new_jobs  # noqa: F401 - cups is a fixture

pytestmark = pytest.mark.window


def kinds(driver) -> list[str]:
    return [event["kind"] for event in driver.events()]


def test_help_opens_over_a_service_page_and_closes_back_to_it_as_it_was(driver, sites):
    kiosk = driver.kiosk
    page = sites.page("typing")
    driver.load(page)
    driver.click_page_centre()  # focus the field
    driver.xdotool("type", "--delay", "30", "Dupont")
    driver.wait(lambda: driver.js("document.getElementById('cible').value") == "Dupont", what="the typed name")
    requests_before = len(sites.allowed.requests)

    driver.click_widget(kiosk.toolbar.buttons["help"])
    driver.wait(lambda: kiosk.help.visible and not kiosk.help.view.is_loading()
                and (kiosk.help.view.get_uri() or "").endswith("/aide?superpose=1"), 30, "the help over the page")
    driver.pump(0.5)
    shown = driver.js("document.querySelector('main').innerText", view=kiosk.help.view)
    assert "Claire, médiatrice numérique" in shown and "Fermer l’aide" in shown
    driver.screenshot("help-over-a-service")
    assert driver.url() == page  # the page behind is still loaded, untouched
    driver.assert_locked()

    driver.click_in_page(kiosk.help.view, "[data-fermer-aide]")
    driver.wait(lambda: not kiosk.help.visible, 10, "the help to close")
    assert driver.url() == page
    assert driver.js("document.getElementById('cible').value") == "Dupont"
    assert len(sites.allowed.requests) == requests_before  # never reloaded
    # And the toolbar's "Aide" toggles it too.
    driver.click_widget(kiosk.toolbar.buttons["help"])
    driver.wait(lambda: kiosk.help.visible, 10, "the help again")
    driver.click_widget(kiosk.toolbar.buttons["help"])
    driver.wait(lambda: not kiosk.help.visible, 10, "the help to close again")
    assert driver.js("document.getElementById('cible').value") == "Dupont"


def open_the_tile_and_download(driver, sites) -> None:
    kiosk = driver.kiosk
    driver.load(sites.page("download-pdf"))
    driver.click_page_centre()
    driver.wait(lambda: kiosk.documents.documents(), what="the download")
    kiosk.view.load_uri(kiosk.shell_origin + "/ouvrir/service-test")  # as the tile does: the service opens
    driver.wait(lambda: driver.url() == sites.allowed_url("/service") and not kiosk.view.is_loading(), 30,
                "the service page")


def ask(driver) -> str:
    kiosk = driver.kiosk
    driver.click_widget(kiosk.toolbar.buttons["end"])
    driver.wait(lambda: kiosk.end_question.visible, 10, "the end-of-session question")
    driver.pump(0.3)
    return kiosk.end_question.text.get_text()


def test_ending_asks_first_and_no_keeps_everything(driver, sites):
    kiosk = driver.kiosk
    already = len(driver.events())
    open_the_tile_and_download(driver, sites)
    text = ask(driver)
    assert "1 document dans «\u202fMes documents\u202f»" in text
    assert "le site ouvert\u202f: Service de test" in text
    assert kiosk.end_question.print_first.get_visible()  # a printer is configured, there is a document
    driver.screenshot("end-question")
    driver.click_widget(kiosk.end_question.keep)
    assert not kiosk.end_question.visible
    assert driver.url() == sites.allowed_url("/service") and len(kiosk.documents.documents()) == 1
    assert "session_ended" not in kinds(driver)[already:]


def test_print_first_sends_the_documents_to_cups_then_asks_again(driver, sites, cups):  # noqa: F811
    kiosk = driver.kiosk
    already = len(driver.events())
    open_the_tile_and_download(driver, sites)
    before = all_jobs(cups)
    ask(driver)
    driver.click_widget(kiosk.end_question.print_first)
    driver.wait(lambda: "C’est parti" in kiosk.end_question.status.get_text(), 30, "the documents to be sent")
    driver.wait(lambda: new_jobs(cups, before, "completed"), 30, "CUPS to complete the job")
    assert len(new_jobs(cups, before, "completed")) == 1
    assert kiosk.end_question.visible and not kiosk.end_question.print_first.get_visible()  # asks again
    assert [event["pages"] for event in driver.events() if event["kind"] == "pages_printed"][-1:] == [1]
    assert len(kiosk.documents.documents()) == 1 and "session_ended" not in kinds(driver)[already:]
    driver.click_widget(kiosk.end_question.keep)


def test_yes_erases_everything_and_shows_the_session_ended_page(driver, sites):
    kiosk = driver.kiosk
    already = len(driver.events())
    open_the_tile_and_download(driver, sites)
    kiosk.farewell_s = 4.0  # long enough to see it under load
    settings = kiosk.settings
    # Not a hang test: on a loaded machine a new web process may not answer pings for seconds.
    kiosk.settings = settings.with_changes(hang_timeout_s=60, loading_hang_timeout_s=120)
    try:
        ask(driver)
        driver.click_widget(kiosk.end_question.erase)
        driver.wait(lambda: driver.url() == kiosk.farewell and not kiosk.view.is_loading(), 30, "the session-ended page")
        assert "Votre session est terminée" in driver.js("document.querySelector('main').innerText")
        assert kiosk.documents.documents() == [] and "session_ended" in kinds(driver)[already:]
        driver.screenshot("session-ended")
        driver.wait(lambda: kiosk.home_ready and driver.url() == kiosk.home, 30, "the home after it")
        assert driver.js("history.length") == 1  # the session-ended page was replaced, not stacked
    finally:
        kiosk.farewell_s, kiosk.settings = 0.3, settings
