""""Terminer ma session" is a decision, not an accident: the question before the wipe.

The question lists, in plain words, what will be erased (the documents, the site open), and offers
three answers: "Imprimer mes documents d’abord" (every document of the session goes to the
printer through the usual printing code, then the question comes back with the outcome),
"Oui, tout effacer" (the wipe, ``KioskWindow.end_session``) and "Non, je continue" (nothing
changes; it has the focus, so Enter never erases by accident). The idle path does not come
here: it has its own question.
"""

from __future__ import annotations

import threading
from urllib.parse import urlsplit

from gi.repository import GLib

from kiosk.events import EventKind
from kiosk.window.panels import EndQuestion
from kiosk.window.session import NNBSP, erase_summary


class Ending:
    def __init__(self, kiosk) -> None:
        self.kiosk = kiosk
        self.printing = False
        self.panel = EndQuestion(on_print=self.print_first, on_erase=self.erase, on_continue=self.keep_going)

    def open_site(self) -> str | None:
        """The name of the service open in the session's view, as the resident knows it."""
        kiosk = self.kiosk
        uri = kiosk.view.get_uri() or ""
        if not uri or kiosk.is_shell_page(uri) or uri.startswith("about:"):
            return None
        tile = kiosk.config.tile(kiosk.current_tile) if kiosk.current_tile else None
        return tile.label if tile is not None else (urlsplit(uri).hostname or None)

    def ask(self, status: str | None = None) -> None:
        kiosk = self.kiosk
        documents = kiosk.documents.documents()
        can_print = bool(documents) and bool(kiosk.printer.name) and not self.printing and status is None
        self.panel.show(erase_summary(len(documents), self.open_site()), can_print=can_print, status=status)

    def keep_going(self) -> None:
        self.kiosk._touch()
        self.panel.hide()
        self.kiosk.view.grab_focus()

    def erase(self) -> None:
        self.panel.hide()
        self.kiosk.end_session(idle=False)

    def print_first(self) -> None:
        """Every document of the session to the printer, then the question again."""
        kiosk = self.kiosk
        kiosk._touch()
        if self.printing:
            return
        self.printing = True
        paths = [kiosk.documents.path_of(document.path_key) for document in kiosk.documents.documents()]
        self.panel.print_first.set_sensitive(False)
        self.panel.set_status("Envoi à l’imprimante…")
        generation = kiosk._generation

        def work():
            results = [kiosk.printer.print_file(path) for path in paths if path is not None]
            GLib.idle_add(self._printed, results, generation)

        threading.Thread(target=work, name="print-documents", daemon=True).start()

    def _printed(self, results, generation: int) -> bool:
        self.printing = False
        if generation != self.kiosk._generation:
            return False  # the session ended meanwhile
        for result in results:
            if result.ok:
                self.kiosk._emit(EventKind.PAGES_PRINTED, pages=result.pages)
        pages = sum(result.pages for result in results if result.ok)
        failed = [result for result in results if not result.ok]
        if failed:
            status = failed[0].message
        else:
            plural = "s" if pages > 1 else ""
            status = (f"C’est parti{NNBSP}: {pages} page{plural} à prendre à l’imprimante de la mairie. "
                      "Prenez vos feuilles, puis choisissez.")
        self.ask(status=status)
        return False
