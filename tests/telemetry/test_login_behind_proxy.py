"""The login throttle in a real gunicorn configured from the environment (FLEET_TRUSTED_PROXIES), over
loopback: behind one trusted proxy the client is the last X-Forwarded-For entry; with none, the header
is the client's own text and is ignored. SQLite and PostgreSQL."""

from __future__ import annotations

import http.client
import re
from urllib.parse import urlencode, urlsplit

import pytest

PASSWORD = "the-right-password-42"


def login(url: str, username: str, password: str, forwarded_for: str | None = None) -> int:
    """A browser's login (GET the form, POST it with its CSRF token and cookie) over real HTTP."""
    parts = urlsplit(url)
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        connection.request("GET", "/connexion", headers=headers)
        response = connection.getresponse()
        page = response.read().decode()
        cookie = response.getheader("Set-Cookie").split(";", 1)[0]
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        body = urlencode({"csrf_token": token, "username": username, "password": password})
        connection.request("POST", "/connexion", body=body, headers={
            **headers, "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


@pytest.fixture
def staff_account(engine):
    from provisioning.fleet.accounts import store
    with engine.begin() as conn:
        store.create_user(conn, "camille", PASSWORD, "staff", None)


@pytest.mark.parametrize("trusted", [1, 0])
def test_the_throttle_keys_on_the_real_client(fleet_server, staff_account, trusted):
    server = fleet_server(extra_env={"FLEET_TRUSTED_PROXIES": str(trusted), "FLEET_SESSION_COOKIE_SECURE": "0"})
    for n in range(5):
        # Behind a proxy: the attacker at 203.0.113.5 writes a header of its own, the proxy appends the
        # address it saw. Without one: the same header, entirely the client's.
        assert login(server.url, "camille", f"guess-{n}", f"10.0.0.{n}, 203.0.113.5") == 401
    locked_out = login(server.url, "camille", PASSWORD, "10.0.0.99, 203.0.113.5")
    other_client = login(server.url, "camille", PASSWORD, "198.51.100.20")
    assert locked_out == 429
    if trusted:
        assert other_client == 302      # another client behind the proxy: the real staff member gets in
    else:
        assert other_client == 429      # every request comes from 127.0.0.1: the header changes nothing
