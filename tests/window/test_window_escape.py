"""The escape suite: hostile pages try to leave the allowed hosts or to open something native.

Judged on evidence: the forbidden server (127.0.0.2) received no request, no other window is
mapped on the display, the kiosk window still covers the screen and the toolbar is still there.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.window

REFUSED = "refused page"   # the shell's "page non autorisée" replaced the page
STAYS = "stays"            # the hostile page is still shown

CASES = [
    ("link", True, REFUSED),
    ("js-redirect", False, STAYS),
    ("meta-refresh", False, STAYS),
    ("http-redirect", True, REFUSED),
    ("form-post", True, REFUSED),
    ("blank", True, REFUSED),
    ("window-open", True, REFUSED),
    ("iframe", False, STAYS),
    ("file", True, STAYS),
    ("data", True, STAYS),
    ("javascript", True, REFUSED),
    ("mailto", True, STAYS),
    ("print", True, STAYS),
    ("fullscreen", True, STAYS),
]


@pytest.mark.parametrize("name, click, outcome", CASES, ids=[case[0] for case in CASES])
def test_hostile_page_cannot_escape(driver, sites, name, click, outcome):
    page = sites.page(name)
    driver.load(page)
    if click:
        # Click once the page is laid out (a click that lands before it would prove nothing).
        driver.wait(lambda: driver.js("document.readyState") == "complete", what="the page to be ready")
        driver.pump(0.5)
        driver.click_page_centre()
    driver.pump(1.0)
    assert sites.forbidden.requests == []
    if outcome == REFUSED:
        driver.wait(lambda: "/non-autorise?hote=127.0.0.2" in driver.url(), what="the refusal page")
        assert any(event["kind"] == "navigation_refused" and event.get("host") == "127.0.0.2" for event in driver.events())
    else:
        assert driver.url() == page
    driver.assert_locked()
    assert sites.forbidden.requests == []


def test_the_display_setting_never_acts_in_a_page_it_was_not_meant_for(driver, sites):
    """The cause of a refused redirect once leaving the hostile page shown: while the refusal page was
    pending, ``get_uri()`` already named it, so the shell's display script (POST /affichage, then
    reload) ran in the third-party page still shown, and its reload replaced the refusal page."""
    driver.load(sites.page("service"))
    refusal = driver.kiosk.shell_origin + "/non-autorise?hote=127.0.0.2"
    driver.kiosk.view.load_uri(refusal)
    assert driver.url() == refusal  # pending: the service page is still the document shown
    driver.kiosk.apply_display(driver.kiosk.view)
    driver.wait(lambda: driver.url() == refusal and not driver.kiosk.view.is_loading(), what="the refusal page")
    driver.pump(1.0)
    assert driver.url() == refusal
    assert [request for request in sites.allowed.requests if request[0] == "POST"] == []
    assert driver.js("location.href") == refusal


@pytest.mark.parametrize("name", ["blank-allowed", "window-open-allowed"])
def test_popup_to_an_allowed_host_opens_in_the_same_window(driver, sites, name):
    driver.load(sites.page(name))
    driver.click_page_centre()
    driver.wait(lambda: "/service?" in driver.url(), what="the popup's page in the kiosk window")
    driver.assert_locked()


def test_refused_events_carry_the_host_only(driver, sites):
    driver.load(sites.page("link"))
    driver.click_page_centre()
    driver.wait(lambda: "/non-autorise" in driver.url(), what="the refusal page")
    refused = [event for event in driver.events() if event["kind"] == "navigation_refused"]
    assert refused and set(refused[-1]) == {"kind", "at", "host"}
    assert "link" not in str(refused)


def test_script_dialog_loops_open_nothing(driver, sites):
    driver.load(sites.page("dialogs"))
    driver.wait(lambda: driver.js("document.getElementById('etat').textContent") == "fini", what="the dialog loop")
    driver.assert_locked()


def test_mailto_says_why_nothing_happens(driver, sites):
    driver.load(sites.page("mailto"))
    driver.click_page_centre()
    notice = driver.kiosk.notice  # the click reaches the page late on a loaded machine: wait for the notice
    driver.wait(lambda: notice.get_visible() and "autre application" in notice.label.get_text(), what="the notice")


def test_window_print_opens_no_dialog_and_points_to_the_toolbar(driver, sites):
    driver.load(sites.page("print"))
    driver.click_page_centre()
    driver.wait(lambda: "Imprimer" in driver.kiosk.notice.label.get_text(), what="the notice pointing to the toolbar")
    driver.assert_locked()


def test_downloads_land_in_my_documents_without_a_dialog(driver, sites):
    documents = driver.kiosk.documents
    driver.load(sites.page("download-sh"))
    driver.click_page_centre()
    driver.wait(lambda: "pas accepté" in driver.kiosk.notice.label.get_text(), what="the refused download's notice")
    assert documents.documents() == []
    driver.load(sites.page("download-pdf"))
    driver.click_page_centre()
    driver.wait(lambda: [d.name for d in documents.documents()] == ["attestation.pdf"], what="the PDF download")
    driver.wait(lambda: "Mes documents" in driver.kiosk.notice.label.get_text(), what="the saved notice")
    driver.assert_locked()
    assert not any(path.suffix == ".sh" for path in documents.folder.rglob("*"))


def test_file_input_offers_only_the_session_documents(driver, sites):
    (driver.usb / "releve.pdf").write_bytes(sites.allowed.pdf)
    (driver.usb / "programme.sh").write_text("#!/bin/sh\n")
    driver.load(sites.page("download-pdf"))
    driver.click_page_centre()
    driver.wait(lambda: driver.kiosk.documents.documents(), what="the PDF download")
    driver.load(sites.page("file-input"))
    driver.click_page_centre()
    picker = driver.kiosk.picker
    assert picker.visible
    labels = [child.get_label() for child in picker.list.get_children()]
    assert labels == ["attestation.pdf", "releve.pdf (clé USB)"]
    driver.screenshot("document-picker")
    driver.assert_locked()
    driver.click_widget(picker.list.get_children()[1])
    assert not picker.visible
    assert driver.js("document.getElementById('cible').files[0].name") == "releve.pdf"
    copied = driver.kiosk.documents.path_of("cle-usb/releve.pdf")
    assert copied.stat().st_mode & 0o222 == 0  # read-only copy


def test_broken_page_with_strict_csp_keeps_the_toolbar(driver, sites):
    driver.load(sites.page("csp"))
    driver.assert_locked()
    driver.click_widget(driver.kiosk.toolbar.buttons["zoom_in"])
    # One text level up: on a page that is not the shell's, WebKit's page zoom (1.5 with three levels).
    assert driver.kiosk.view.get_zoom_level() == pytest.approx(driver.kiosk.text.zoom) and driver.kiosk.text.zoom > 1.0
    driver.click_widget(driver.kiosk.toolbar.buttons["home"])
    driver.wait(lambda: driver.url() == driver.kiosk.home, what="the home screen")


def test_the_locked_window_refuses_to_close(driver):
    from gi.repository import Gdk

    event = Gdk.Event.new(Gdk.EventType.DELETE)
    event.any.window = driver.kiosk.window.get_window()
    driver.kiosk.window.emit("delete-event", event)
    driver.pump(0.3)
    driver.assert_locked()


def test_the_toolbar_is_reachable_from_the_keyboard(driver, sites):
    driver.load(sites.page("service"))
    driver.kiosk.view.grab_focus()
    driver.xdotool("key", "F6")
    driver.pump(0.3)
    assert driver.kiosk.toolbar.buttons["home"].has_focus()
    driver.xdotool("key", "Return")
    driver.wait(lambda: driver.url() == driver.kiosk.home, what="the home screen from the keyboard")
