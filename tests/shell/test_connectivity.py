"""The connectivity probe, against real loopback sockets (tests never reach beyond 127.0.0.1)."""

from __future__ import annotations

import socket
import time

from kiosk.shell.connectivity import ConnectivityProbe


def test_refused_connection_means_offline(closed_port):
    assert ConnectivityProbe("127.0.0.1", closed_port, timeout_s=1).is_online() is False


def test_accepted_connection_means_online(listening_port):
    assert ConnectivityProbe("127.0.0.1", listening_port, timeout_s=1).is_online() is True


def test_result_is_cached_then_refreshed_in_the_background():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        port = server.getsockname()[1]
        now = [1000.0]
        probe = ConnectivityProbe("127.0.0.1", port, timeout_s=1, cache_s=5, clock=lambda: now[0])
        assert probe.is_online() is False  # bound but not listening: refused
        server.listen(8)
        assert probe.is_online() is False  # still the cached answer
        now[0] += 6  # the answer is stale: this call returns it and starts a refresh
        assert probe.is_online() is False
        deadline = time.monotonic() + 5
        while not probe.status().online and time.monotonic() < deadline:
            time.sleep(0.02)
        assert probe.status().online is True


def test_first_answer_never_waits_for_a_slow_probe(listening_port):
    class SlowProbe(ConnectivityProbe):
        def probe_once(self):  # stands for a name resolution that hangs (no DNS in a zone blanche)
            time.sleep(2)
            return super().probe_once()

    probe = SlowProbe("127.0.0.1", listening_port, timeout_s=0.2)
    started = time.monotonic()
    assert probe.is_online() is False  # provisional answer, not remembered
    assert time.monotonic() - started < 1.5
    deadline = time.monotonic() + 5
    while not probe.is_online() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert probe.is_online() is True
