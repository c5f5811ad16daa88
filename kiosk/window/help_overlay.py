"""The toolbar's "Aide": the shell's help page over the current page, which stays loaded behind.

The help is a second guarded web view, stacked in the window's overlay above the session's view
(under the idle question and the other panels). It shares the session view's web context, so it
shows the shell's display choices (text size, contrast) and ends with the session. The page behind
is never touched: closing the help shows it exactly as it was (scroll position, typed fields).

The help view only shows the help page (``/aide?superpose=1``, where the shell offers
"Fermer l’aide"). Following any other link from it closes the help and opens that link in the
session's view, through the session view's own guard; ``/aide/fermer`` just closes it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import gi

gi.require_version("WebKit2", "4.1")
from gi.repository import WebKit2  # noqa: E402

from kiosk.window.webview import destroy_web_view, navigation_request, new_web_view  # noqa: E402

HELP_PATH, CLOSE_PATH = "/aide", "/aide/fermer"


class HelpOverlay:
    def __init__(self, kiosk) -> None:
        self.kiosk = kiosk
        self.view: WebKit2.WebView | None = None
        self.url = kiosk.shell_origin + HELP_PATH + "?superpose=1"

    @property
    def visible(self) -> bool:
        return self.view is not None and self.view.get_visible()

    def open(self) -> None:
        kiosk = self.kiosk
        if self.view is None:
            self.view = new_web_view(kiosk, context=kiosk.view.get_context(), decide_policy=self.on_decide_policy)
            self.view.connect("load-changed", kiosk.on_load_changed)
            kiosk.overlay.add_overlay(self.view)
            kiosk.overlay.reorder_overlay(self.view, 0)  # under the idle question and the panels
        self.view.load_uri(self.url)
        self.view.show()
        self.view.grab_focus()
        kiosk.toolbar.set_help_open(True)

    def close(self) -> None:
        if not self.visible:
            return
        self.view.hide()
        self.view.load_uri("about:blank")  # its scripts stop while hidden; the next "Aide" is fresh
        self.kiosk.toolbar.set_help_open(False)
        self.kiosk.view.grab_focus()

    def discard(self) -> None:
        """At the end of a session: the view goes with the session's context."""
        if self.view is not None:
            self.kiosk.overlay.remove(self.view)
            destroy_web_view(self.view)
            self.view = None
        self.kiosk.toolbar.set_help_open(False)

    def on_decide_policy(self, view, decision, kind) -> bool:
        if kind == WebKit2.PolicyDecisionType.RESPONSE:
            return False
        url, _user_initiated = navigation_request(decision)
        parts = urlsplit(url)
        own = f"{parts.scheme}://{parts.netloc}" == self.kiosk.shell_origin
        if url == "about:blank" or (own and parts.path == HELP_PATH):
            decision.use()
            return True
        decision.ignore()
        if own and parts.path == CLOSE_PATH:
            self.close()
        elif kind == WebKit2.PolicyDecisionType.NAVIGATION_ACTION:
            # A link of the help page (a phone page, "Accueil"...): it opens in the session's view,
            # where the kiosk's guard decides.
            self.close()
            self.kiosk.view.load_uri(url)
        return True
