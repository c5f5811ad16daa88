"""A connectivity check target on loopback, in one of three modes the test chooses.

``online``: answers 200 with the expected body (the shell's probe then says "online");
``portal``: answers a redirect to a login page, as a captive portal or a 4G router does;
``offline``: accepts the connection and closes it without a word (the probe gets no answer).
"""

from __future__ import annotations

import http.server
import threading

ANSWER = "NetworkManager is online"
PATH = "/nm"


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802
        mode = self.server.mode
        self.server.checks += 1
        if mode == "offline":
            self.close_connection = True
            return  # no status line at all: the probe sees the connection end without an answer
        if mode == "portal":
            body = b"<html><body>Connectez-vous au Wi-Fi</body></html>"
            self.send_response(302)
            self.send_header("Location", "http://192.0.2.1/login")
        else:
            body = (ANSWER + "\n").encode()
            self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class ConnectivityCheck:
    """Start with ``ConnectivityCheck.start()``; set ``.mode``; ``settings()`` gives the ShellSettings fields."""

    def __init__(self, server: http.server.ThreadingHTTPServer) -> None:
        self.server = server

    @classmethod
    def start(cls, mode: str = "online") -> "ConnectivityCheck":
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.mode, server.checks = mode, 0
        threading.Thread(target=server.serve_forever, name="connectivity-check", daemon=True).start()
        return cls(server)

    @property
    def port(self) -> int:
        return self.server.server_port

    @property
    def mode(self) -> str:
        return self.server.mode

    @mode.setter
    def mode(self, value: str) -> None:
        assert value in ("online", "portal", "offline"), value
        self.server.mode = value

    def settings(self) -> dict:
        return {"probe_host": "127.0.0.1", "probe_port": self.port, "probe_path": PATH, "probe_answer": ANSWER}

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
