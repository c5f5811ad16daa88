"""Two loopback web sites for the window tests: ``allowed`` (127.0.0.1, in the kiosk's rules) serves
hostile pages and a fake public service; ``forbidden`` (127.0.0.2, not in the rules) must never
receive a request. Both record the paths they were asked for, and the fake service's reports.
"""

from __future__ import annotations

import http.server
import json
import threading
from dataclasses import dataclass

BIG = ("position:fixed;left:0;right:0;top:0;bottom:0;display:block;font-size:40px;"
       "background:#ffe9a8;border:0;width:100%;height:100%;text-align:center")


def _page(body: str, head: str = "") -> str:
    return (f'<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Page de test</title>{head}</head>'
            f'<body>{body}</body></html>')


def hostile_pages(forbidden: str, allowed: str) -> dict[str, str]:
    """Each page has one big target covering the viewport: clicking the middle of the screen triggers it."""
    link = lambda href, extra="": _page(f'<a id="cible" href="{href}" {extra} style="{BIG}">Cliquez ici</a>')  # noqa: E731
    button = lambda script: _page(f'<button id="cible" style="{BIG}" onclick="{script}">Cliquez ici</button>')  # noqa: E731
    return {
        "link": link(f"{forbidden}/link"),
        "js-redirect": _page("<p>Redirection…</p><script>location.href = '%s/js';</script>" % forbidden),
        "meta-refresh": _page("<p>Redirection…</p>", f'<meta http-equiv="refresh" content="0;url={forbidden}/meta">'),
        "http-redirect": link(f"{allowed}/redirect"),
        "form-post": _page(f'<form method="post" action="{forbidden}/form"><input type="hidden" name="q" value="1">'
                           f'<button id="cible" style="{BIG}">Envoyer</button></form>'),
        "blank": link(f"{forbidden}/blank", 'target="_blank"'),
        "blank-allowed": link(f"{allowed}/service?popup", 'target="_blank"'),
        "window-open": button(f"window.open('{forbidden}/open')"),
        "window-open-allowed": button(f"window.open('{allowed}/service?open')"),
        # Two escapes on one page: a target=_blank link (upper half) and a window.open button (lower half).
        "popups": _page(f'<a href="{forbidden}/blank-tab" target="_blank" style="position:fixed;left:0;right:0;top:0;'
                        f'height:50%;font-size:40px;background:#ffe9a8">Nouvel onglet</a>'
                        f'<button onclick="window.open(\'{forbidden}/open-tab\')" style="position:fixed;left:0;right:0;'
                        f'bottom:0;height:50%;font-size:40px;background:#c8e6ff;border:0">Nouvelle fenêtre</button>'),
        "iframe": _page(f'<h1>Cadre</h1><iframe src="{forbidden}/iframe" width="400" height="200"></iframe>'),
        "file": link("file:///etc/passwd"),
        "data": link("data:text/html,<h1>data</h1>"),
        "javascript": link(f"javascript:location.href='{forbidden}/javascript'"),
        "mailto": link("mailto:someone@example.org"),
        "download-sh": link(f"{allowed}/download/script.sh"),
        "download-pdf": link(f"{allowed}/download/attestation.pdf"),
        "download-pdf-2-pages": link(f"{allowed}/download/releve.pdf"),
        "file-input": _page(f'<input id="cible" type="file" style="{BIG}">'),
        "print": button("window.print()"),
        "dialogs": _page("<p id='etat'>boucle</p><script>for (let i = 0; i < 40; i++) { alert('a' + i); "
                         "confirm('c' + i); prompt('p' + i); } document.getElementById('etat').textContent = 'fini';"
                         "</script>"),
        "fullscreen": button("(document.documentElement.requestFullscreen || document.documentElement"
                             ".webkitRequestFullscreen || function(){}).call(document.documentElement);"
                             "if (document.exitFullscreen) document.exitFullscreen();"),
        "hang": button("while (true) {}"),
        "service": _page("<h1>Service public de test</h1><p>Bienvenue sur le service.</p>"),
        "typing": _page(f'<label for="cible">Votre nom</label><input id="cible" name="nom" style="{BIG}">'),
        "csp": _page("<h1>Page stricte</h1><script>this is broken(</script>"),
        "wipe-set": _page("<h1>Service</h1><p id='etat'>…</p><script>"
                          "document.cookie = 'js_cookie=secret; max-age=86400; path=/';"
                          "localStorage.setItem('local', 'secret'); sessionStorage.setItem('session', 'secret');"
                          "const open = indexedDB.open('base', 1);"
                          "open.onupgradeneeded = () => open.result.createObjectStore('store');"
                          "open.onsuccess = () => { const tx = open.result.transaction('store', 'readwrite');"
                          " tx.objectStore('store').put('secret', 'key');"
                          " tx.oncomplete = () => { document.getElementById('etat').textContent = 'pose'; }; };"
                          "</script>"),
        "wipe-check": _page("<h1>Service</h1><script>"
                            "const report = {cookie: document.cookie, local: localStorage.getItem('local'),"
                            " session: sessionStorage.getItem('session'), history: history.length};"
                            "indexedDB.databases().then((bases) => { report.indexeddb = bases.map((b) => b.name);"
                            " return fetch('/report', {method: 'POST', body: JSON.stringify(report)}); });"
                            "</script>"),
    }


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *args):
        pass

    def _record(self) -> None:
        self.server.requests.append((self.command, self.path, self.headers.get("Cookie", "")))

    def _send(self, status: int, body: bytes, content_type: str = "text/html; charset=utf-8", headers=()) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802
        self._record()
        pages = self.server.pages
        path = self.path.split("?", 1)[0]
        name = path.strip("/").split("/", 1)[-1] if path.startswith("/hostile/") else path.strip("/")
        if path == "/redirect":
            self._send(302, b"", headers=[("Location", f"{self.server.other_url}/redirected")])
        elif path == "/download/script.sh":
            self._send(200, b"#!/bin/sh\necho pwned\n", "application/x-sh",
                       [("Content-Disposition", 'attachment; filename="script.sh"')])
        elif path == "/download/attestation.pdf":
            self._send(200, self.server.pdf, "application/pdf",
                       [("Content-Disposition", 'attachment; filename="attestation.pdf"')])
        elif path == "/download/releve.pdf":
            self._send(200, self.server.two_page_pdf, "application/pdf",
                       [("Content-Disposition", 'attachment; filename="releve.pdf"')])
        elif name == "wipe-set":
            self._send(200, pages[name].encode(), headers=[("Set-Cookie", "http_cookie=secret; Max-Age=86400; Path=/")])
        elif name == "csp":
            self._send(200, pages[name].encode(), headers=[("Content-Security-Policy", "default-src 'none'")])
        elif name in pages:
            self._send(200, pages[name].encode())
        else:
            self._send(200, _page(f"<h1>{path}</h1>").encode())

    def do_POST(self):  # noqa: N802
        self._record()
        length = int(self.headers.get("Content-Length", "0") or 0)
        body = self.rfile.read(length)
        if self.path == "/report":
            self.server.reports.append(json.loads(body))
        self._send(200, b"ok", "text/plain")


def start_site(address: str, other=None) -> http.server.ThreadingHTTPServer:
    server = http.server.ThreadingHTTPServer((address, 0), _Handler)
    server.daemon_threads = True
    server.requests, server.reports = [], []
    base = f"http://{address}:{server.server_port}"
    other_url = f"http://{other.server_address[0]}:{other.server_port}" if other else base
    server.other_url = other_url
    server.pages = hostile_pages(other_url, base)
    server.pdf = _tiny_pdf()
    server.two_page_pdf = _tiny_pdf(pages=2)
    threading.Thread(target=server.serve_forever, name=f"site-{address}", daemon=True).start()
    return server


@dataclass
class HostileSite:
    allowed: http.server.ThreadingHTTPServer
    forbidden: http.server.ThreadingHTTPServer

    def allowed_url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.allowed.server_port}{path}"

    def page(self, name: str) -> str:
        return self.allowed_url(f"/hostile/{name}")

    def reset(self) -> None:
        for server in (self.allowed, self.forbidden):
            server.requests.clear()
            server.reports.clear()


def _tiny_pdf(pages: int = 1) -> bytes:
    """A valid PDF of ``pages`` pages, written by hand (offsets computed)."""
    kids = " ".join(f"{4 + 2 * index} 0 R" for index in range(pages)).encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    for index in range(pages):
        stream = b"BT /F1 36 Tf 72 700 Td (Attestation de test, page %d) Tj ET" % (index + 1)
        objects.append(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
                       b"/Resources << /Font << /F1 3 0 R >> >> >>" % (5 + 2 * index))
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)
