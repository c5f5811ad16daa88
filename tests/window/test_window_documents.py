"""'Mes documents' and printing in the real window."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from kiosk.documents.printing import PRINTER_DOWN


def plain(text: str) -> str:
    """Shell pages are set in French typography (kiosk.text.typography): compare the wording."""
    return text.replace("\u2019", "'").replace("\u202f", " ").replace("\u00a0", " ")


pytestmark = pytest.mark.window


def download_pdf(driver, sites) -> None:
    driver.load(sites.page("download-pdf"))
    driver.click_page_centre()
    driver.wait(lambda: driver.kiosk.documents.documents(), what="the download")


def test_my_documents_lists_and_shows_a_pdf(driver, sites):
    download_pdf(driver, sites)
    driver.click_widget(driver.kiosk.toolbar.buttons["documents"])
    driver.wait(lambda: driver.url().endswith("/documents") and not driver.kiosk.view.is_loading(), what="Mes documents")
    assert "attestation.pdf" in plain(driver.js("document.querySelector('main').innerText"))
    driver.load(driver.kiosk.shell_origin + "/documents/voir/attestation.pdf")
    driver.wait(lambda: driver.js("[...document.images].filter(i => i.complete && i.naturalWidth > 500).length") == 1,
                what="the rendered page")
    driver.screenshot("my-documents-pdf")
    driver.assert_locked()


def test_printing_a_document_explains_a_printer_that_does_not_answer(driver, sites, unreachable_cups):
    download_pdf(driver, sites)
    events_before = len(driver.events())  # the event log lives as long as the test session
    driver.load(driver.kiosk.shell_origin + "/documents")
    driver.js("document.querySelector('main form button').click()")
    driver.wait(lambda: "message=" in driver.url() and not driver.kiosk.view.is_loading(), what="the print answer")
    assert plain(PRINTER_DOWN) in plain(driver.js("document.querySelector('main').innerText"))
    assert not any(event["kind"] == "pages_printed" for event in driver.events()[events_before:])


def test_a_web_page_cannot_make_the_shell_print(driver, sites):
    download_pdf(driver, sites)
    request = urllib.request.Request(driver.kiosk.shell_origin + "/documents/imprimer/attestation.pdf", method="POST",
                                     data=b"jeton=devine", headers={"Origin": sites.allowed_url("")})
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=5)
    error.value.close()
    assert error.value.code == 403


def test_toolbar_print_prints_the_page_without_a_dialog(driver, sites, unreachable_cups):
    driver.load(sites.page("service"))
    driver.click_widget(driver.kiosk.toolbar.buttons["print"])
    driver.wait(lambda: driver.kiosk.notice.label.get_text() == PRINTER_DOWN, 15, "the print outcome")
    printed = list((driver.kiosk.documents.folder / ".impressions").glob("*.pdf"))
    assert len(printed) == 1 and printed[0].read_bytes().startswith(b"%PDF")
    driver.assert_locked()
