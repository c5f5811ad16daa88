"""Files in and out of the kiosk without a native dialog: downloads into the session's documents,
uploads through the kiosk's own picker, and printing the current page on the CUPS printer."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("WebKit2", "4.1")
from gi.repository import GLib, Gtk, WebKit2  # noqa: E402

from kiosk.events import EventKind  # noqa: E402
from kiosk.documents.printing import NO_PRINTER  # noqa: E402

PRINTS_FOLDER = ".impressions"


class Transfers:
    def __init__(self, *, documents, printer, notice, picker, usb_roots, emit, show_document=None) -> None:
        """``show_document(key) -> bool``: show a saved document in the shell's document view."""
        self.documents, self.printer, self.notice, self.picker = documents, printer, notice, picker
        self.usb_roots, self.emit, self.show_document = usb_roots, emit, show_document
        self._show_next: bool | None = None  # a PDF response is being saved: show it (True) or say where (False)
        self._chooser = None
        self._print_busy = False

    # ------------------------------------------------------------------ downloads

    def on_download_started(self, _context, download) -> None:
        download.connect("decide-destination", self.on_decide_destination)
        download.connect("finished", self.on_download_finished)

    def show_next_document(self, main_frame: bool) -> None:
        """The next download is a PDF WebKit would have shown in its viewer: once saved, show it the
        kiosk's way (a page) or say it is in "Mes documents" (a frame of a page)."""
        self._show_next = main_frame

    def on_decide_destination(self, download, suggested: str) -> bool:
        suggested = suggested or ""
        response = download.get_response()
        mime = (response.get_mime_type() or "").lower() if response is not None else ""
        if mime in ("application/pdf", "application/x-pdf") and not suggested.lower().endswith(".pdf"):
            suggested = (suggested.rsplit(".", 1)[0] if "." in suggested else suggested or "document") + ".pdf"
        destination = self.documents.destination_for(suggested)
        if destination is None:
            download.cancel()
            self.notice.show_message("Ce type de fichier n’est pas accepté sur ce point numérique. "
                                     "Seuls les documents PDF, les images et les textes sont gardés.")
            return True
        download.set_allow_overwrite(False)
        download.set_destination(GLib.filename_to_uri(str(destination), None))
        return True

    def on_download_finished(self, download) -> None:
        destination = download.get_destination()
        show, self._show_next = self._show_next, None
        if not destination:
            return
        path = Path(GLib.filename_from_uri(destination)[0])
        if self.documents.folder not in path.parents:
            return
        if show and self.show_document is not None and path.parent == self.documents.folder:
            if self.show_document(path.name):
                return
        self.notice.show_message("Document enregistré. Retrouvez-le dans «\u202fMes documents\u202f».")

    # ------------------------------------------------------------------ uploads

    def on_file_chooser(self, _view, request) -> bool:
        self.cancel_chooser()
        self._chooser = request
        self.documents.import_usb(self.usb_roots)
        self.picker.show(self.documents.documents(), self._choose_document, self.cancel_chooser)
        return True

    def _choose_document(self, key: str) -> None:
        path = self.documents.path_of(key)
        if self._chooser is not None and path is not None:
            self._chooser.select_files([str(path)])
            self._chooser = None
        self.picker.hide()

    def cancel_chooser(self) -> None:
        if self._chooser is not None:
            self._chooser.cancel()
            self._chooser = None
        self.picker.hide()

    # ------------------------------------------------------------------ printing the current page

    def print_page(self, view) -> None:
        if not self.printer.name:
            self.notice.show_message(NO_PRINTER)
            return
        if self._print_busy:
            return
        self._print_busy = True
        folder = self.documents.folder / PRINTS_FOLDER
        folder.mkdir(mode=0o700, exist_ok=True)
        target = folder / f"page-{time.time_ns()}.pdf"
        operation = WebKit2.PrintOperation.new(view)
        print_settings = Gtk.PrintSettings()
        print_settings.set_printer("Print to File")
        print_settings.set(Gtk.PRINT_SETTINGS_OUTPUT_FILE_FORMAT, "pdf")
        print_settings.set(Gtk.PRINT_SETTINGS_OUTPUT_URI, GLib.filename_to_uri(str(target), None))
        operation.set_print_settings(print_settings)
        operation.connect("finished", lambda _op: self._send_to_printer(target))
        operation.connect("failed", lambda _op, _error: self._print_done(None, "L’impression n’a pas pu se préparer."))
        self.notice.show_message("Impression en préparation…")
        operation.print_()

    def _send_to_printer(self, target: Path) -> None:
        def work():
            result = self.printer.print_file(target)
            GLib.idle_add(self._print_done, result, result.message)
        threading.Thread(target=work, name="print-page", daemon=True).start()

    def _print_done(self, result, message: str) -> bool:
        self._print_busy = False
        if result is not None and result.ok:
            self.emit(EventKind.PAGES_PRINTED, pages=result.pages)
        self.notice.show_message(message)
        return False
