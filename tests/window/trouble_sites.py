"""Loopback servers that misbehave the ways real services do, for the window's error tests.

- ``TroubleSite`` (127.0.0.1, an allowed host): ``/panne`` answers 503; ``/silence`` accepts and never
  answers; ``/avis.pdf`` and ``/voir?id=3`` are PDFs served inline (no attachment); ``/lien-pdf`` links
  to one; ``/lourde`` is a heavy page served slowly whose scripts keep the web process busy for
  longer than the hang timeout while it loads; ``/gouffre`` allocates memory without end.
- ``start_tls_site``: an HTTPS server with a self-signed certificate (made by ``openssl`` for the test).
"""

from __future__ import annotations

import http.server
import ssl
import subprocess
import threading
import time
from pathlib import Path

from hostile_site import BIG, _page, _tiny_pdf

HEAVY_CHUNKS = 4
HEAVY_BUSY_MS = 4000        # each busy script: longer than the tests' hang timeout (2.5 s)
HEAVY_ROWS_PER_CHUNK = 4000
GROW_SCRIPT = """<p id="etat">0</p><script>
const kept = [];
function grow() {
  for (let i = 0; i < 2; i++) { const block = new Float64Array(1 << 20); block.fill(kept.length + i); kept.push(block); }
  document.getElementById('etat').textContent = String(kept.length * 8);
  setTimeout(grow, 100);
}
grow();
</script>"""


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):
        pass

    def _send(self, status: int, body: bytes, content_type: str = "text/html; charset=utf-8") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802
        path = self.path.split("?", 1)[0]
        self.server.requests.append(path)
        if path == "/panne":
            self._send(503, _page("<h1>Service Unavailable</h1>").encode())
        elif path == "/silence":
            self.server.silent.wait(60)  # never answers while the test runs
        elif path in ("/avis.pdf", "/voir"):
            self._send(200, self.server.pdf, "application/pdf")
        elif path == "/lien-pdf":
            self._send(200, _page(f'<a href="/avis.pdf" style="{BIG}">Voir mon avis</a>').encode())
        elif path == "/gouffre":
            self._send(200, _page(GROW_SCRIPT).encode())
        elif path == "/lourde":
            self._heavy_page()
        else:
            self._send(200, _page(f"<h1>{path}</h1>").encode())

    def _heavy_page(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()  # no length: the page ends when the connection closes (HTTP/1.0)
        self.wfile.write(b'<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Lourde</title></head>'
                         b"<body><h1>Page lourde</h1><table>")
        row = b"<tr><td>Ligne de relev\xc3\xa9</td><td>12,50 \xe2\x82\xac</td><td>pay\xc3\xa9</td></tr>" * 10
        for chunk in range(HEAVY_CHUNKS):
            self.wfile.write(row * (HEAVY_ROWS_PER_CHUNK // 10))
            self.wfile.write(b"</table><script>{ const t = Date.now(); while (Date.now() - t < %d) {} }</script><table>"
                             % HEAVY_BUSY_MS)
            self.wfile.flush()
            time.sleep(0.5)
        self.wfile.write(b'</table><p id="fin">fin</p></body></html>')


def start_trouble_site() -> http.server.ThreadingHTTPServer:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.requests, server.pdf, server.silent = [], _tiny_pdf(pages=2), threading.Event()
    server.base = f"http://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, name="trouble-site", daemon=True).start()
    return server


def stop(server) -> None:
    server.silent.set() if hasattr(server, "silent") else None
    server.shutdown()
    server.server_close()


def start_tls_site(folder: Path) -> http.server.ThreadingHTTPServer:
    """HTTPS on 127.0.0.1 with a self-signed certificate WebKit must refuse."""
    key, cert = folder / "key.pem", folder / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    server.requests, server.pdf, server.silent = [], b"", threading.Event()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.base = f"https://127.0.0.1:{server.server_port}"
    threading.Thread(target=server.serve_forever, name="tls-site", daemon=True).start()
    return server
