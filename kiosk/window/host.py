"""pywebview's GTK backend hosts the kiosk: it creates the native window and owns the main loop.

pywebview (GTK backend, WebKitGTK from Debian) creates a ``Gtk.ApplicationWindow`` and runs the
``Gtk.Application``. Its window's ``before_show`` event runs on the GTK thread with
``window.native`` set: there ``build_kiosk(native)`` makes the ``KioskWindow``, which adopts the
native window (pywebview's own web view is taken out and destroyed, see ``toplevel.adopt_window``)
and puts in its layout: toolbar, overlays and the guarded web view of each session.

pywebview's desktop defaults are turned the other way first (no external browser, no file URLs, no
downloads or dialogs of its own, no developer tools, no text selection CSS, private mode), so even
its own web view, which lives for a moment before it is destroyed, is tamed. A locked kiosk cancels
pywebview's ``closing`` event; the demo window lets it close, which ends ``webview.start()``.
"""

from __future__ import annotations

import logging
import signal
from typing import Callable

from kiosk.window.toplevel import WINDOW_TITLE, screen_geometry, windowed_size

log = logging.getLogger(__name__)

EXIT_FATAL = 3

# pywebview's settings turned to a kiosk's (see webview.settings in pywebview 6).
KIOSK_PYWEBVIEW_SETTINGS = {
    "OPEN_EXTERNAL_LINKS_IN_BROWSER": False,
    "ALLOW_FILE_URLS": False,
    "ALLOW_DOWNLOADS": False,
    "OPEN_DEVTOOLS_IN_DEBUG": False,
    "IGNORE_SSL_ERRORS": False,
    "SHOW_DEFAULT_MENUS": False,
    "REMOTE_DEBUGGING_PORT": None,
}
# What pywebview loads in its own web view before the kiosk replaces it: nothing from the network.
PLACEHOLDER_PAGE = "<!doctype html><html lang='fr'><meta charset='utf-8'><title>Point numérique</title></html>"
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class PywebviewHost:
    """One pywebview window hosting one kiosk; ``run()`` blocks in ``webview.start()``."""

    def __init__(self, build_kiosk: Callable, *, windowed: bool, on_ready: Callable | None = None) -> None:
        """``build_kiosk(native_window, quit)`` returns the KioskWindow; ``on_ready(kiosk)`` runs
        once the window is shown."""
        self.build_kiosk, self.windowed, self.on_ready = build_kiosk, windowed, on_ready
        self.kiosk = None
        self.exit_code = 0
        self.stopping = False
        self.window = None

    def run(self) -> int:
        import webview
        from gi.repository import GLib

        for key, value in KIOSK_PYWEBVIEW_SETTINGS.items():
            webview.settings[key] = value
        geometry = screen_geometry()
        if self.windowed:
            width, height = windowed_size(geometry)
            place = {"width": width, "height": height, "resizable": True}
        else:
            place = {"width": geometry.width, "height": geometry.height, "x": 0, "y": 0, "resizable": False,
                     "fullscreen": True, "frameless": True, "on_top": True}
        self.window = webview.create_window(
            WINDOW_TITLE, html=PLACEHOLDER_PAGE, easy_drag=False, shadow=False, focus=True, confirm_close=False,
            text_select=False, zoomable=False, draggable=False, min_size=(200, 100), **place)
        self.window.events.before_show += self._before_show
        self.window.events.closing += self._closing
        for number in STOP_SIGNALS:
            GLib.unix_signal_add(GLib.PRIORITY_HIGH, number, self._on_stop_signal)
        webview.start(gui="gtk", private_mode=True, debug=False, http_server=False)
        if self.kiosk is None and not self.stopping:
            log.error("pywebview ended before the kiosk window was built")
            return EXIT_FATAL
        return self.exit_code or (self.kiosk.exit_code if self.kiosk is not None else 0)

    # ------------------------------------------------------------------ pywebview events (GTK thread)

    def _before_show(self, window) -> None:
        from gi.repository import GLib

        try:
            self.kiosk = self.build_kiosk(window.native, self.quit)
        except Exception:  # noqa: BLE001 - pywebview would only log it and show its own unguarded view
            log.exception("the kiosk window could not be built")
            self.exit_code = EXIT_FATAL
            GLib.idle_add(self._close)
            return
        GLib.idle_add(self._shown)

    def _shown(self) -> bool:
        if self.stopping:
            self._close()
            return False
        self._release_pywebview_view()
        self.kiosk.show()
        # pywebview sets ``shown`` when its own web view becomes visible; that view was replaced, so
        # the kiosk says it: pywebview's window API (destroy, size...) waits for this event.
        self.window.events.shown.set()
        if self.on_ready is not None:
            self.on_ready(self.kiosk)
        return False

    def _release_pywebview_view(self) -> None:
        """Let pywebview's own web view (destroyed at adoption) and its web context go.

        pywebview's GTK BrowserView keeps Python references to its view and to the context's cookie
        manager, which keep the context, and its network process (about 20 MB), alive. The cookie
        manager is WebKit's own object (transfer none): it must be released before the context is,
        or releasing it later touches freed memory (measured: a segmentation fault at exit).
        """
        from webview.platforms.gtk import BrowserView

        browser = BrowserView.instances.get(self.window.uid)
        if browser is None or not hasattr(browser, "webview"):
            return
        if hasattr(browser, "cookie_manager"):
            browser.cookie_manager = None
        browser.webview = None

    def _closing(self, window) -> bool:  # pywebview passes the window to a parameter named so
        """pywebview's ``closing``: returning False cancels the close (a locked kiosk cannot be closed)."""
        return self.windowed or self.stopping

    # ------------------------------------------------------------------ ending the main loop

    def quit(self) -> None:
        """End ``webview.start()``: close pywebview's window (its application ends with its last window)."""
        self.stopping = True
        self._close()

    def _close(self) -> bool:
        self.stopping = True
        if self.window is not None and self.window.native is not None:
            # What Window.destroy() does, without waiting for ``shown`` (we may be before it, on the
            # GTK thread): pywebview's close path, on idle: closing (allowed now), destroy, closed.
            self.window.gui.destroy_window(self.window.uid)
        return False

    def _on_stop_signal(self, *_args) -> bool:
        log.info("stop signal received")
        self.quit()
        return False
