"""Without a window: slow versus frozen pages, the web process memory limit, the error-page address."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from kiosk.window.memory import MAX_LIMIT_MB, MIN_LIMIT_MB, machine_memory_mb, web_process_limit_mb
from kiosk.window.settings import WindowSettings
from kiosk.window.watchdog import PageWatch, PageVerdict


def watch() -> PageWatch:
    return PageWatch(hang_timeout_s=6, loading_hang_timeout_s=60, load_timeout_s=40)


def test_a_loaded_page_that_does_not_answer_is_frozen_after_the_hang_timeout():
    page = watch()
    assert page.ping(100.0) is True
    assert page.ping(101.0) is False  # one ping at a time
    assert page.verdict(105.9) is PageVerdict.FINE
    assert page.verdict(106.1) is PageVerdict.FROZEN


def test_a_page_busy_while_it_loads_is_slow_not_frozen():
    page = watch()
    page.started(100.0)
    page.committed()  # the site answered; the page is still arriving and being laid out
    page.ping(101.0)
    assert page.verdict(120.0) is PageVerdict.FINE
    assert page.verdict(160.0) is PageVerdict.FINE
    assert page.verdict(161.5) is PageVerdict.FROZEN  # frozen while loading is still caught, later
    page.answered()
    page.ended()
    page.ping(200.0)
    assert page.verdict(206.5) is PageVerdict.FROZEN  # loaded: the short timeout again


def test_a_site_that_does_not_start_answering_is_no_answer():
    page = watch()
    page.started(100.0)
    assert page.verdict(139.0) is PageVerdict.FINE
    assert page.verdict(140.5) is PageVerdict.NO_ANSWER
    page.committed()
    assert page.verdict(200.0) is PageVerdict.FINE


def test_reset_forgets_pings_and_loads():
    page = watch()
    page.started(0.0)
    page.ping(0.0)
    page.reset()
    assert page.verdict(1000.0) is PageVerdict.FINE and page.ping(1000.0) is True


@pytest.mark.parametrize("total_mb, limit_mb", [
    (2048, 819), (4096, 1638), (1024, MIN_LIMIT_MB), (65536, MAX_LIMIT_MB), (None, 819), (0, 819)])
def test_web_memory_limit_is_sized_from_the_machine(total_mb, limit_mb):
    assert web_process_limit_mb(total_mb) == limit_mb


def test_machine_memory_is_read_from_meminfo(tmp_path):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:        4030464 kB\nMemFree:          123 kB\n")
    assert machine_memory_mb(meminfo) == 3936
    assert machine_memory_mb(tmp_path / "absent") is None
    meminfo.write_text("MemTotal: beaucoup\n")
    assert machine_memory_mb(meminfo) is None
    assert machine_memory_mb() > 0  # this machine's


@pytest.mark.parametrize("changes, name", [
    ({"loading_hang_timeout_s": 1}, "loading_hang_timeout_s"),
    ({"load_timeout_s": 0}, "load_timeout_s"),
    ({"web_memory_limit_mb": 10}, "web_memory_limit_mb"),
    ({"memory_poll_interval_s": 0}, "memory_poll_interval_s"),
])
def test_new_window_settings_are_checked(changes, name):
    with pytest.raises(ValueError, match=name):
        WindowSettings(**changes)


def test_the_error_page_address_carries_host_cause_tile_and_retry_only(xvfb):  # GTK needs the display first
    from kiosk.window.failures import unreachable_page

    page = unreachable_page("http://127.0.0.1:5000", "https://cfsfc.impots.gouv.fr/avis?id=1", "serveur",
                            tile="impots", status=503)
    parts = urlsplit(page)
    assert page.startswith("http://127.0.0.1:5000/injoignable?")
    assert parse_qs(parts.query) == {"hote": ["cfsfc.impots.gouv.fr"], "cause": ["serveur"], "code": ["503"],
                                     "tuile": ["impots"], "adresse": ["https://cfsfc.impots.gouv.fr/avis?id=1"]}
    too_long = unreachable_page("http://127.0.0.1:5000", "https://www.ameli.fr/" + "a" * 3000, "dns")
    assert "adresse" not in parse_qs(urlsplit(too_long).query)
