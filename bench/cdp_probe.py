"""Ask Chromium's DevTools endpoint one JavaScript question, with the standard library only.

bench/boot.py runs this inside the booted container's network namespace (``nsenter --net``), where
the baseline Chromium listens on 127.0.0.1. Prints the answer as one JSON line, or nothing and exit
status 1 while Chromium or its page is not there yet.

Run: python3 cdp_probe.py PORT 'JAVASCRIPT EXPRESSION'
"""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
import sys
import urllib.request
from urllib.parse import urlsplit


def page_socket_url(port: int) -> str | None:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=2) as answer:
        targets = json.load(answer)
    pages = [target for target in targets if target.get("type") == "page"]
    return pages[0]["webSocketDebuggerUrl"] if pages else None


def _read_exact(sock: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise ConnectionError("DevTools closed the connection")
        data += chunk
    return data


def _send_text(sock: socket.socket, text: str) -> None:
    payload = text.encode()
    mask = os.urandom(4)
    header = bytes([0x81])
    if len(payload) < 126:
        header += bytes([0x80 | len(payload)])
    elif len(payload) < 65536:
        header += bytes([0x80 | 126]) + struct.pack(">H", len(payload))
    else:
        header += bytes([0x80 | 127]) + struct.pack(">Q", len(payload))
    sock.sendall(header + mask + bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload)))


def _receive_text(sock: socket.socket) -> str:
    message = b""
    while True:
        first, second = _read_exact(sock, 2)
        length = second & 0x7F
        if length == 126:
            length = struct.unpack(">H", _read_exact(sock, 2))[0]
        elif length == 127:
            length = struct.unpack(">Q", _read_exact(sock, 8))[0]
        message += _read_exact(sock, length)
        if first & 0x80:
            return message.decode()


def evaluate(socket_url: str, expression: str, timeout_s: float = 10) -> object:
    parts = urlsplit(socket_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=timeout_s) as sock:
        key = base64.b64encode(os.urandom(16)).decode()
        sock.sendall((f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\n"
                      f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += _read_exact(sock, 1)
        if b" 101 " not in head.split(b"\r\n", 1)[0]:
            raise ConnectionError(head.decode(errors="replace"))
        _send_text(sock, json.dumps({"id": 1, "method": "Runtime.evaluate",
                                     "params": {"expression": expression, "returnByValue": True}}))
        while True:
            answer = json.loads(_receive_text(sock))
            if answer.get("id") == 1:
                return answer.get("result", {}).get("result", {}).get("value")


def main(argv: list[str]) -> int:
    port, expression = int(argv[0]), argv[1]
    try:
        url = page_socket_url(port)
        if url is None:
            return 1
        print(json.dumps(evaluate(url, expression)))
    except (OSError, ConnectionError, ValueError):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
