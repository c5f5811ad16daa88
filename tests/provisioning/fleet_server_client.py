"""Clients of the booted fleet server, run inside the container's network namespace by the tests
(``nsenter --target LEADER --net -- python fleet_server_client.py CAFILE NAME COMMAND ...``), so that
they reach its nginx on the container's own loopback and nothing else. Prints one JSON line.

Commands:
  get PATH                       status, headers, start of the body and time of a GET over HTTPS
  device-get TOKEN PATH          the same with a kiosk's device token
  plain PATH                     the same over plain HTTP (port 80)
  enrol CODE ASSET_TAG INSEE     the enrolment's status and answer
  checkin TOKEN SEQ              a gzip check-in with one health record numbered SEQ
  post PATH BYTES                a POST of that many bytes (no token)
  slow TOKEN FIRST_SEQ N         N connections trickling their request head and N that never finish
                                 TLS, held open while a kiosk checks in and a dashboard page is
                                 fetched, each timed; then how many slow connections were still open,
                                 and how long nginx took to close them all
"""

from __future__ import annotations

import gzip
import http.client
import json
import socket
import ssl
import sys
import threading
import time

HOST = "127.0.0.1"


class Client:
    def __init__(self, cafile: str, name: str) -> None:
        self.name = name
        self.context = ssl.create_default_context(cafile=cafile)

    def connection(self) -> http.client.HTTPSConnection:
        connection = http.client.HTTPSConnection(HOST, 443, timeout=10, context=self.context)
        # TLS to the loopback address, checked against the server's name (SNI and certificate).
        connection.sock = self.context.wrap_socket(socket.create_connection((HOST, 443), timeout=10),
                                                   server_hostname=self.name)
        return connection

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None) -> dict:
        started = time.perf_counter()
        connection = self.connection()
        try:
            connection.request(method, path, body=body, headers={"Host": self.name, **(headers or {})})
            response = connection.getresponse()
            data = response.read()
        finally:
            connection.close()
        return {"status": response.status, "seconds": time.perf_counter() - started,
                "headers": {key.lower(): value for key, value in response.getheaders()},
                "body": data[:4000].decode("utf-8", "replace")}

    def checkin(self, token: str, seq: int) -> dict:
        now = time.time()
        doc = {"protocol": 1, "sent_at": now, "records": [
            {"seq": seq, "at": now - 5, "type": "health",
             "data": {"cpu_percent": 12.5, "load1": 0.4, "memory_used_percent": 41.0, "disk_used_percent": 55.0,
                      "uptime_s": 3600.0, "kiosk_restarts": 0}}]}
        body = gzip.compress(json.dumps(doc).encode())
        return self.request("POST", "/api/v1/checkin", body, {
            "Authorization": f"Bearer {token}", "Content-Type": "application/json", "Content-Encoding": "gzip"})


def plain_get(name: str, path: str) -> dict:
    connection = http.client.HTTPConnection(HOST, 80, timeout=10)
    connection.request("GET", path, headers={"Host": name})
    response = connection.getresponse()
    response.read()
    connection.close()
    return {"status": response.status, "headers": {key.lower(): value for key, value in response.getheaders()}}


class SlowConnections:
    """Connections that hold nginx's attention without ever completing a request."""

    def __init__(self, client: Client, count: int) -> None:
        self.client = client
        self.count = count
        self.sockets: list[socket.socket] = []
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []

    def open(self) -> None:
        for _ in range(self.count):
            # Never finishes TLS: connects, sends nothing.
            self.sockets.append(socket.create_connection((HOST, 443), timeout=30))
        for index in range(self.count):
            # Finishes TLS, then trickles a request head one byte at a time.
            tls = self.client.context.wrap_socket(socket.create_connection((HOST, 443), timeout=30),
                                                  server_hostname=self.client.name)
            thread = threading.Thread(target=self._trickle, args=(tls, index), daemon=True)
            thread.start()
            self.threads.append(thread)
            self.sockets.append(tls)

    def _trickle(self, tls: ssl.SSLSocket, index: int) -> None:
        head = (f"GET /connexion?lent={index} HTTP/1.1\r\nHost: {self.client.name}\r\n"
                + "".join(f"X-Lent-{n}: {'a' * 20}\r\n" for n in range(200))).encode()
        for byte in head:
            if self.stop.wait(0.5):
                return
            try:
                tls.send(bytes([byte]))
            except OSError:
                return

    def still_open(self) -> int:
        """How many of them the server has not closed (a closed one reads as end of file)."""
        count = 0
        for sock in self.sockets:
            sock.setblocking(False)
            try:
                data = sock.recv(1)
                count += 0 if data == b"" else 1
            except (BlockingIOError, ssl.SSLWantReadError):
                count += 1
            except OSError:
                pass
        return count

    def close(self) -> None:
        self.stop.set()
        for sock in self.sockets:
            sock.close()


def main(argv: list[str]) -> dict:
    cafile, name, command, *args = argv
    client = Client(cafile, name)
    if command == "get":
        return client.request("GET", args[0])
    if command == "device-get":
        return client.request("GET", args[1], headers={"Authorization": f"Bearer {args[0]}"})
    if command == "plain":
        return plain_get(name, args[0])
    if command == "enrol":
        code, asset_tag, insee = args
        return client.request("POST", "/api/v1/enrol", json.dumps(
            {"protocol": 1, "code": code, "asset_tag": asset_tag, "commune_insee": insee}).encode(),
            {"Content-Type": "application/json"})
    if command == "checkin":
        return client.checkin(args[0], int(args[1]))
    if command == "post":
        return client.request("POST", args[0], b"0" * int(args[1]), {"Content-Type": "application/json"})
    if command == "slow":
        token, first_seq, count = args[0], int(args[1]), int(args[2])
        slow = SlowConnections(client, count)
        slow.open()
        try:
            time.sleep(2)  # the trickling heads are well under way
            opened = slow.still_open()
            checkins, pages = [], []
            for index in range(5):
                checkins.append(client.checkin(token, first_seq + index))
                pages.append(client.request("GET", "/connexion"))
            still = slow.still_open()
            # nginx's client_header_timeout (which also bounds the TLS handshake) ends them all.
            started = time.monotonic()
            while slow.still_open() and time.monotonic() - started < 60:
                time.sleep(0.5)
            left, closed_after = slow.still_open(), time.monotonic() - started
        finally:
            slow.close()
        return {"slow_connections": 2 * count, "open_before": opened, "open_after": still,
                "left_after_timeout": left, "closed_within_s": closed_after,
                "checkins": [{"status": c["status"], "seconds": c["seconds"]} for c in checkins],
                "pages": [{"status": p["status"], "seconds": p["seconds"]} for p in pages]}
    raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
