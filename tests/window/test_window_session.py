"""Sessions in the real window: the wipe proof, the idle question, crashes, hangs and no network."""

from __future__ import annotations

import os
import signal
import time

import psutil
import pytest

pytestmark = pytest.mark.window


def kinds(driver) -> list[str]:
    return [event["kind"] for event in driver.events()]


def test_wipe_leaves_nothing_for_the_next_resident(driver, sites):
    kiosk = driver.kiosk
    driver.load(sites.page("wipe-set"))
    driver.wait(lambda: driver.js("document.getElementById('etat').textContent") == "pose", what="the data to be set")
    driver.load(sites.page("download-pdf"))
    driver.click_page_centre()
    driver.wait(lambda: kiosk.documents.documents(), what="the download")
    driver.load(sites.page("wipe-check"))
    driver.wait(lambda: sites.allowed.reports, what="the first report")
    before = sites.allowed.reports[-1]
    assert "js_cookie=secret" in before["cookie"] and before["local"] == "secret" and before["indexeddb"] == ["base"]
    driver.click_widget(kiosk.toolbar.buttons["zoom_in"])

    driver.end_session_by_hand()
    driver.wait(lambda: kiosk.home_ready, what="the home screen after the wipe")
    assert kiosk.last_wipe_s is not None and kiosk.last_wipe_s < 2.5
    assert kiosk.documents.documents() == [] and list(kiosk.documents.folder.iterdir()) == []
    assert kiosk.view.get_zoom_level() == 1.0
    assert "session_ended" in kinds(driver)

    # "Retour" after the end leads nowhere: the new view has no history at all.
    driver.click_widget(kiosk.toolbar.buttons["back"])
    driver.pump(0.5)
    assert driver.url() == kiosk.home and not kiosk.view.can_go_back()
    assert driver.js("history.length") == 1
    sites.reset()
    driver.load(sites.page("wipe-check"))
    driver.wait(lambda: sites.allowed.reports, what="the second report")
    after = sites.allowed.reports[-1]
    assert after == {"cookie": "", "local": None, "session": None, "history": 2, "indexeddb": []}
    assert all(cookie == "" for _method, _path, cookie in sites.allowed.requests)


def test_session_starts_at_the_first_input_and_ends_with_its_duration(driver, sites):
    assert driver.kiosk.session.state.value == "no_session"
    driver.click_widget(driver.kiosk.toolbar.buttons["zoom_in"])
    assert driver.kiosk.session.state.value == "active"
    assert kinds(driver)[-1] == "session_started"
    driver.end_session_by_hand()
    ended = driver.events()[-1]
    assert ended["kind"] == "session_ended" and ended["duration_s"] >= 0


def test_idle_question_then_answer_keeps_the_session_then_silence_ends_it(driver, sites):
    kiosk = driver.kiosk
    session = kiosk.session
    saved = session.warning_after_s, session.answer_within_s
    session.warning_after_s, session.answer_within_s = 1.5, 3.0
    try:
        driver.load(sites.page("service"))
        driver.click_page_centre()  # the first input starts the session
        driver.wait(lambda: kiosk.idle_question.visible, 5, "the idle question")
        assert kinds(driver)[-1] == "idle_warning"
        driver.screenshot("idle-question")
        driver.click_widget(kiosk.idle_question.button)
        assert not kiosk.idle_question.visible and session.state.value == "active"
        assert driver.url() == sites.page("service")  # answering never ends the session
        driver.wait(lambda: kiosk.idle_question.visible, 5, "the idle question again")
        driver.wait(lambda: not kiosk.idle_question.visible, 6, "the idle reset")
        driver.wait(lambda: kiosk.home_ready, 30, "the home screen")
        assert kinds(driver)[-3:] == ["idle_warning", "idle_reset", "session_ended"]
    finally:
        session.warning_after_s, session.answer_within_s = saved


def web_processes() -> list[psutil.Process]:
    return [child for child in psutil.Process().children(recursive=True) if child.name() == "WebKitWebProcess"]


def test_crashed_web_process_is_back_home_within_seconds(driver, sites):
    driver.load(sites.page("service"))
    for process in web_processes():
        os.kill(process.pid, signal.SIGKILL)
    started = time.monotonic()
    driver.wait(lambda: driver.url() == driver.kiosk.home and not driver.kiosk.view.is_loading(), 10, "the home screen")
    assert time.monotonic() - started < 5
    assert "crash_recovered" in kinds(driver)
    driver.assert_locked()


def test_hung_page_is_replaced_by_the_home_screen(driver, sites):
    driver.load(sites.page("hang"))
    driver.click_page_centre()
    driver.wait(lambda: "crash_recovered" in kinds(driver), 10, "the hang to be noticed")
    driver.wait(lambda: driver.url() == driver.kiosk.home and not driver.kiosk.view.is_loading(), 10, "the home screen")
    assert driver.js("1 + 1") == 2
    driver.assert_locked()


def test_unreachable_service_shows_the_shell_page_saying_so(driver, closed_loopback_port):
    # Which page exactly (no Internet, portal, this service): test_window_errors.py.
    driver.kiosk.view.load_uri(f"http://127.0.0.1:{closed_loopback_port}/service")
    driver.wait(lambda: "/injoignable" in driver.url(), 10, "the page saying the service does not answer")
    driver.assert_locked()


@pytest.fixture
def closed_loopback_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_screenshots_of_home_service_and_refusal(driver, sites):
    driver.screenshot("home")
    driver.load(sites.page("service"))
    driver.screenshot("service-with-toolbar")
    driver.load(sites.page("link"))
    driver.click_page_centre()
    driver.wait(lambda: "/non-autorise" in driver.url(), what="the refusal page")
    driver.screenshot("refused")
