"""The kiosk's top-level window: where it goes on the screen, and how the kiosk adopts a window
its host created (pywebview's GTK window in ``kiosk run``, a plain ``Gtk.Window`` in tests).
"""

from __future__ import annotations

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("Gdk", "3.0")
gi.require_version("WebKit2", "4.1")
from gi.repository import Gdk, GLib, Gtk, WebKit2  # noqa: E402

from kiosk.window.webview import destroy_web_view  # noqa: E402

WINDOW_TITLE = "Point numérique"


def screen_geometry() -> Gdk.Rectangle:
    """The primary monitor's geometry: a kiosk has no window manager to place the window for it."""
    display = Gdk.Display.get_default()
    monitor = display.get_primary_monitor() or display.get_monitor(0)
    return monitor.get_geometry()


def windowed_size(geometry: Gdk.Rectangle) -> tuple[int, int]:
    """The demo window's size: most of the screen, at most 1280x860."""
    return min(1280, geometry.width * 85 // 100), min(860, geometry.height * 85 // 100)


def adopt_window(window: Gtk.Window) -> None:
    """Empty a host's top-level window so that the kiosk can fill it.

    A web view the host put there (pywebview's own) is not guarded by the kiosk: it is taken out at
    once, then stopped, its web process terminated and destroyed on the next idle (after the host
    has finished setting it up), so that no second web process lives on.
    """
    content = window.get_child()
    if content is None:
        return
    window.remove(content)
    views = _web_views_in(content)
    for view in views:
        view.connect("decide-policy", _refuse_every_decision)

    def dispose() -> bool:
        for view in views:
            destroy_web_view(view)
        content.destroy()
        return False

    GLib.idle_add(dispose)


def _web_views_in(widget: Gtk.Widget) -> list[WebKit2.WebView]:
    if isinstance(widget, WebKit2.WebView):
        return [widget]
    if isinstance(widget, Gtk.Container):
        return [view for child in widget.get_children() for view in _web_views_in(child)]
    return []


def _refuse_every_decision(_view, decision, _kind) -> bool:
    decision.ignore()
    return True
