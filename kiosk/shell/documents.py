""""Mes documents": the session's documents, shown in the shell (list, view, print).

Registered by the window (``init_documents``), which owns the session's documents folder and the
printer; ``kiosk serve`` alone has no documents. PDF pages are shown as images rendered by
``pdftoppm`` (poppler-utils), big and readable, with no PDF viewer buttons to get lost in.
Printing is a POST that must carry a token only the shell's own pages hold (a web page open in
the kiosk cannot read them, so it cannot make the kiosk print).
"""

from __future__ import annotations

import hmac
import logging
import secrets
import subprocess
from dataclasses import dataclass
from flask import Blueprint, Flask, abort, current_app, redirect, render_template, request, send_file, url_for

from kiosk.events import Event, EventKind, EventLog

log = logging.getLogger(__name__)

blueprint = Blueprint("documents", __name__)
EXTENSION_KEY = "kiosk_documents"
PREVIEWS_FOLDER = ".apercus"
PREVIEW_DPI = 110
MAX_PREVIEW_PAGES = 30
TEXT_PREVIEW_BYTES = 200_000


@dataclass
class DocumentsAccess:
    documents: object            # kiosk.documents.folder.SessionDocuments
    printer: object              # kiosk.documents.printing.CupsPrinter
    events: EventLog | None
    token: str


def init_documents(app: Flask, *, documents, printer, events: EventLog | None = None) -> None:
    app.extensions[EXTENSION_KEY] = DocumentsAccess(documents, printer, events, secrets.token_urlsafe(32))
    app.register_blueprint(blueprint)


def _access() -> DocumentsAccess:
    return current_app.extensions[EXTENSION_KEY]


def _document(key: str):
    access = _access()
    document = next((item for item in access.documents.documents() if item.path_key == key), None)
    if document is None:
        abort(404)
    return document, access.documents.path_of(key)


@blueprint.get("/documents")
def index():
    return render_template("documents_list.html", documents=_access().documents.documents(), token=_access().token,
                           message=request.args.get("message"), printer=bool(_access().printer.name))


@blueprint.get("/documents/voir/<path:key>")
def view(key: str):
    document, path = _document(key)
    pages, text = [], None
    if document.kind == "pdf":
        from kiosk.documents.printing import count_pages
        pages = list(range(1, min(count_pages(path) or 0, MAX_PREVIEW_PAGES) + 1))
    elif document.kind == "text":
        text = path.read_bytes()[:TEXT_PREVIEW_BYTES].decode("utf-8", "replace")
    return render_template("documents_view.html", document=document, pages=pages, text=text, token=_access().token,
                           printer=bool(_access().printer.name))


@blueprint.get("/documents/fichier/<path:key>")
def file(key: str):
    document, path = _document(key)
    if document.kind != "image":
        abort(404)
    return send_file(path, max_age=0)


@blueprint.get("/documents/apercu/<int:page>/<path:key>")
def preview(page: int, key: str):
    document, path = _document(key)
    if document.kind != "pdf" or not 1 <= page <= MAX_PREVIEW_PAGES:
        abort(404)
    folder = _access().documents.folder / PREVIEWS_FOLDER
    folder.mkdir(mode=0o700, exist_ok=True)
    stem = folder / f"{key.replace('/', '_').replace('.', '_')}-{page}"
    image = stem.parent / f"{stem.name}.png"  # pdftoppm -singlefile adds ".png" to the stem
    if not image.exists():
        try:
            subprocess.run(["pdftoppm", "-png", "-r", str(PREVIEW_DPI), "-f", str(page), "-l", str(page),
                            "-singlefile", str(path), str(stem)], capture_output=True, timeout=30, check=True)
        except (OSError, subprocess.SubprocessError) as error:
            log.error("could not render a page preview: %s", error)
            abort(404)
    return send_file(image, mimetype="image/png", max_age=0)


@blueprint.post("/documents/imprimer/<path:key>")
def print_document(key: str):
    if not hmac.compare_digest(request.form.get("jeton", ""), _access().token):
        abort(403)
    _, path = _document(key)
    access = _access()
    result = access.printer.print_file(path)
    if result.ok and access.events is not None:
        access.events.emit(Event.now(EventKind.PAGES_PRINTED, pages=result.pages))
    return redirect(url_for("documents.index", message=result.message), code=303)

