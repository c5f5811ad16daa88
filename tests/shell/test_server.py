"""`kiosk serve`: a real process serving the shell over loopback, announcing its address in French."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def loopback_probe(port: int) -> dict:
    """The environment of a shell whose connectivity probe stays on loopback."""
    return {**os.environ, "KIOSK_SHELL_PROBE_HOST": "127.0.0.1", "KIOSK_SHELL_PROBE_PORT": str(port)}


def test_kiosk_serve_serves_the_home_page_and_says_where(closed_port):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "kiosk.cli", "serve", str(REPO / "config" / "demo"), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO, env=loopback_probe(closed_port))
    try:
        line = process.stdout.readline()
        assert f"Accueil du kiosque servi sur http://127.0.0.1:{port}/" in line
        deadline = time.monotonic() + 10
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as answer:
                    body = answer.read().decode()
                break
            except OSError:
                assert time.monotonic() < deadline, "the shell did not answer"
                time.sleep(0.1)
        assert "Bagnères-de-Luchon" in body and 'lang="fr"' in body
        assert 'data-en-ligne="non"' in body  # the probe followed KIOSK_SHELL_PROBE_PORT
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()
        process.stderr.close()


def test_kiosk_serve_on_a_busy_port_exits_2_with_a_french_message(closed_port):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "kiosk.cli", "serve", str(REPO / "config" / "demo"), "--port", str(port)],
            capture_output=True, text=True, timeout=30, cwd=REPO, env=loopback_probe(closed_port))
    assert result.returncode == 2
    assert "Impossible d'écouter sur 127.0.0.1" in result.stderr and "--port" in result.stderr
