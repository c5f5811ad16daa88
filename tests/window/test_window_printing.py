"""Printing that succeeds, on a real (private) CUPS scheduler: the job is queued and completed by CUPS,
pages are counted into a PAGES_PRINTED event, and "Terminer ma session" cancels a job still waiting.

``lp`` and ``cancel`` (run by CupsPrinter) reach the private scheduler through ``CUPS_SERVER``, which
they read from the environment they inherit: the kiosk code needs no test switch.
"""

from __future__ import annotations

import time

import pytest

from hostile_site import _tiny_pdf
from kiosk.documents.printing import JOB_TITLE, CupsPrinter


def plain(text: str) -> str:
    """Shell pages are set in French typography (kiosk.text.typography): compare the wording."""
    return text.replace("\u2019", "'").replace("\u202f", " ").replace("\u00a0", " ")


pytestmark = pytest.mark.window

PRINTED = "C’est parti : 2 pages à prendre à l’imprimante de la mairie."


@pytest.fixture
def cups(private_cups, monkeypatch):
    """The private scheduler, reached by every lp/cancel of this test; its queue accepting and printing."""
    monkeypatch.setenv("CUPS_SERVER", private_cups.server)
    private_cups.run("cupsenable", "mairie")
    yield private_cups
    private_cups.run("cancel", "-a", "mairie")
    private_cups.run("cupsenable", "mairie")


def wait_for(predicate, what: str, timeout: float = 15.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def new_jobs(cups, before: set[int], which: str) -> list[int]:
    return [job for job in cups.job_ids("mairie", which) if job not in before]


def all_jobs(cups) -> set[int]:
    return set(cups.job_ids("mairie", "completed")) | set(cups.job_ids("mairie", "not-completed"))


def test_print_file_queues_a_job_that_cups_completes(cups, tmp_path):
    document = tmp_path / "releve.pdf"
    document.write_bytes(_tiny_pdf(pages=2))
    before = all_jobs(cups)
    result = CupsPrinter("mairie").print_file(document)
    assert result.ok and result.pages == 2 and result.message == PRINTED
    wait_for(lambda: new_jobs(cups, before, "completed"), "CUPS to complete the job")
    [job] = new_jobs(cups, before, "completed")
    assert "Job completed." in cups.job_log(job)
    [line] = cups.page_log(job)  # CUPS's accounting line for a job that went through the backend
    assert f" {JOB_TITLE} " in line


def download_two_pages(driver, sites) -> None:
    driver.load(sites.page("download-pdf-2-pages"))
    driver.click_page_centre()
    driver.wait(lambda: [d.name for d in driver.kiosk.documents.documents()] == ["releve.pdf"], what="the download")


def print_from_my_documents(driver) -> None:
    driver.click_widget(driver.kiosk.toolbar.buttons["documents"])
    driver.wait(lambda: driver.url().endswith("/documents") and not driver.kiosk.view.is_loading(), what="Mes documents")
    driver.js("document.querySelector('main form button').click()")
    driver.wait(lambda: "message=" in driver.url() and not driver.kiosk.view.is_loading(), what="the print answer")


def pages_printed(driver) -> list[int]:
    return [event["pages"] for event in driver.events() if event["kind"] == "pages_printed"]


def test_printing_a_document_from_my_documents_prints_two_pages(driver, sites, cups):
    download_two_pages(driver, sites)
    before, events_before = all_jobs(cups), len(pages_printed(driver))
    print_from_my_documents(driver)
    assert plain(PRINTED) in plain(driver.js("document.querySelector('main').innerText"))
    driver.wait(lambda: new_jobs(cups, before, "completed"), 15, "CUPS to complete the job")
    [job] = new_jobs(cups, before, "completed")
    assert "Job completed." in cups.job_log(job) and len(cups.page_log(job)) == 1
    assert pages_printed(driver)[events_before:] == [2]
    driver.assert_locked()


def test_ending_the_session_cancels_a_job_still_waiting(driver, sites, cups):
    cups.run("cupsdisable", "mairie")  # the printer is paused: the job waits in the queue
    download_two_pages(driver, sites)
    before = all_jobs(cups)
    print_from_my_documents(driver)
    assert plain(PRINTED) in plain(driver.js("document.querySelector('main').innerText"))
    [job] = new_jobs(cups, before, "not-completed")
    driver.pump(1.0)
    assert cups.job_ids("mairie", "not-completed") == [job], "a paused printer must keep the job waiting"
    driver.end_session_by_hand()
    driver.wait(lambda: job not in cups.job_ids("mairie", "not-completed"), 15, "the waiting job to go")
    assert job in cups.job_ids("mairie", "completed")
    assert "Job canceled by user." in cups.job_log(job) and "Job completed." not in cups.job_log(job)
    assert cups.page_log(job) == []  # never sent to the printer
    driver.wait(lambda: driver.kiosk.home_ready, 10, "the home screen")
