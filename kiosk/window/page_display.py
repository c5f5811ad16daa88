"""Applies the session's text level (text_size.py) to a web view's page: the shell's own display
setting on shell pages, WebKit's page zoom elsewhere. Runs on the GTK thread."""

from __future__ import annotations

import logging

import gi

gi.require_version("WebKit2", "4.1")
from gi.repository import GLib  # noqa: E402

from kiosk.window.text_size import TextSize, shell_display_script  # noqa: E402

log = logging.getLogger(__name__)


class PageDisplay:
    def __init__(self, kiosk) -> None:
        self.kiosk = kiosk
        self.text = TextSize()
        self.contrast_wanted: bool | None = None  # a one-off request (tests, benchmark); else the page's own switch
        self._pushed: tuple | None = None

    def reset(self) -> None:
        """A new session: normal text, and no pending request."""
        self.text.reset()
        self.contrast_wanted, self._pushed = None, None

    def set(self, *, largest: bool | None = None, contrast: bool | None = None) -> None:
        if largest is not None:
            self.text.set_largest() if largest else self.text.reset()
        self.contrast_wanted = contrast
        self._pushed = None
        self.apply(self.kiosk.view)

    def apply(self, view) -> None:
        """Show ``view``'s page at the session's text level."""
        if view is None:
            return
        uri = view.get_uri()
        if not self.kiosk.is_shell_page(uri):
            view.set_zoom_level(self.text.zoom)
            return
        view.set_zoom_level(1.0)
        wanted = (uri, self.text.key, self.contrast_wanted)

        def done(view, result, _data=None):
            try:
                answer = view.evaluate_javascript_finish(result).to_string()
            except GLib.Error:
                return  # the page went away meanwhile: its successor is applied when it loads
            if answer == "elsewhere":
                return  # another document is still shown (a load is pending): applied when it loads
            if answer == "pushed":
                self._pushed = wanted
            elif answer == "differs":
                log.warning("the shell did not take the display setting %s; left as it is", self.text.key)
            else:
                self._pushed = None
                if self.contrast_wanted is not None and view is self.kiosk.view:
                    self.contrast_wanted = None  # done: from now on the shell's cookie keeps it

        push = self._pushed != wanted  # pushed once already for this page: only check, never loop
        view.evaluate_javascript(shell_display_script(self.text.key, self.contrast_wanted, push=push, page=uri), -1, None, None,
                                 None, done, None)
