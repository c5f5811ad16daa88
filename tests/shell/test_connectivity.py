"""The connectivity check, against real loopback servers (tests never reach beyond 127.0.0.1)."""

from __future__ import annotations

import socket
import time

import pytest

from connectivity_check import ANSWER, PATH, ConnectivityCheck
from kiosk.shell.connectivity import OFFLINE, ONLINE, PORTAL, ConnectivityProbe


@pytest.fixture
def check():
    server = ConnectivityCheck.start("online")
    yield server
    server.stop()


def probe_for(port: int, **options) -> ConnectivityProbe:
    return ConnectivityProbe("127.0.0.1", port, path=PATH, answer=ANSWER, timeout_s=1, **options)


def test_refused_connection_means_offline(closed_port):
    assert probe_for(closed_port).probe_once().state == OFFLINE


def test_expected_answer_means_online(check):
    result = probe_for(check.port).probe_once()
    assert result.state == ONLINE and result.online is True


def test_a_redirect_means_a_portal_not_offline(check):
    check.mode = "portal"
    result = probe_for(check.port).probe_once()
    assert result.state == PORTAL and result.online is False


def test_another_body_means_a_portal(check):
    result = ConnectivityProbe("127.0.0.1", check.port, path=PATH, answer="Something else", timeout_s=1).probe_once()
    assert result.state == PORTAL


def test_a_connection_closed_without_an_answer_means_offline(check):
    check.mode = "offline"
    assert probe_for(check.port).probe_once().state == OFFLINE


def test_a_server_that_never_answers_means_offline_within_the_timeout():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # connections complete from the backlog, nobody ever answers
        started = time.monotonic()
        assert ConnectivityProbe("127.0.0.1", silent.getsockname()[1], timeout_s=0.5).probe_once().state == OFFLINE
        assert time.monotonic() - started < 3


def test_result_is_cached_then_refreshed_in_the_background(check):
    check.mode = "portal"
    now = [1000.0]
    probe = probe_for(check.port, cache_s=5, clock=lambda: now[0])
    assert probe.status().state == PORTAL
    check.mode = "online"
    assert probe.status().state == PORTAL  # still the cached answer
    now[0] += 6  # the answer is stale: this call returns it and starts a refresh
    assert probe.status().state == PORTAL
    deadline = time.monotonic() + 5
    while not probe.status().online and time.monotonic() < deadline:
        time.sleep(0.02)
    assert probe.status().online is True


def test_first_answer_never_waits_for_a_slow_probe(check):
    class SlowProbe(ConnectivityProbe):
        def probe_once(self):  # stands for a name resolution that hangs (no DNS in a zone blanche)
            time.sleep(2)
            return super().probe_once()

    probe = SlowProbe("127.0.0.1", check.port, path=PATH, answer=ANSWER, timeout_s=0.2)
    started = time.monotonic()
    assert probe.is_online() is False  # provisional answer, not remembered
    assert time.monotonic() - started < 1.5
    deadline = time.monotonic() + 5
    while not probe.is_online() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert probe.is_online() is True
