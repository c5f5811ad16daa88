"""The native widgets of remote assistance (GTK, outside the web page, which cannot cover them):
the consent question, the banner « Claire voit votre écran » with « Arrêter », and the mediator's point
(a large animated circle drawn over the page, letting clicks through to it).
"""

from __future__ import annotations

import math
import time

import gi

gi.require_version("Gtk", "3.0")
from gi.repository import Gdk, GLib, Gtk  # noqa: E402

from kiosk.window.panels import NNBSP, _button, _label, _Overlay, _panel, _reveal  # noqa: E402

CSS = b"""
#kiosk-assist-banner { background-color: #7a1f00; color: #ffffff; padding: 10px 16px; }
#kiosk-assist-banner label { font-size: 24px; font-weight: bold; color: #ffffff; }
#kiosk-assist-banner label.assist-message { font-size: 22px; font-weight: normal; background-color: #ffffff;
  color: #1a1a1a; padding: 6px 12px; border-radius: 6px; }
#kiosk-assist-banner button { background-image: none; background-color: #ffffff; color: #7a1f00;
  font-size: 24px; font-weight: bold; min-height: 56px; padding: 0 28px; border-radius: 6px; }
#kiosk-assist-banner button label { color: #7a1f00; font-size: 24px; }
"""
POINT_SHOWN_S = 4.0
POINT_RADIUS_PX = 46


def install_assist_css() -> None:
    provider = Gtk.CssProvider()
    provider.load_from_data(CSS)
    Gtk.StyleContext.add_provider_for_screen(Gdk.Screen.get_default(), provider,
                                             Gtk.STYLE_PROVIDER_PRIORITY_APPLICATION + 1)


def consent_question(mediator: str, title: str) -> str:
    return (f"{mediator}, {title} de l’association, voudrait voir votre écran pour vous aider. "
            f"Acceptez-vous{NNBSP}?")


class ConsentQuestion(_Overlay):
    """The large question; nothing is captured or sent before « Oui »."""

    def __init__(self, on_answer) -> None:
        self.widget, panel, self.heading = _panel("")
        self.text = _label("", "text", 50)
        buttons = Gtk.Box(orientation=Gtk.Orientation.HORIZONTAL, spacing=24)
        buttons.set_halign(Gtk.Align.CENTER)
        self.yes = _button("Oui")
        self.no = _button("Non")
        self.yes.connect("clicked", lambda _button: on_answer(True))
        self.no.connect("clicked", lambda _button: on_answer(False))
        buttons.pack_start(self.yes, False, False, 0)
        buttons.pack_start(self.no, False, False, 0)
        panel.pack_start(self.text, False, False, 0)
        panel.pack_start(buttons, False, False, 0)

    def show(self, mediator: str, title: str) -> None:
        self.heading.set_text(consent_question(mediator, title))
        pronoun = "Elle" if title == "médiatrice" else "Il"
        self.text.set_text(f"{pronoun} verra seulement la page affichée ici, pas le reste de l’ordinateur, "
                           f"et pourra vous montrer où cliquer. Vous pourrez arrêter à tout moment.")
        _reveal(self.widget)
        self.no.grab_focus()


class Banner(Gtk.Box):
    """« Claire voit votre écran » and a big « Arrêter », above the page (a row of the window's layout)."""

    def __init__(self, on_stop) -> None:
        super().__init__(orientation=Gtk.Orientation.HORIZONTAL, spacing=16)
        self.set_name("kiosk-assist-banner")
        self.label = Gtk.Label(xalign=0.0)
        self.message = Gtk.Label(xalign=0.0)
        self.message.set_line_wrap(True)
        self.message.get_style_context().add_class("assist-message")
        self.message.set_no_show_all(True)
        self.stop = Gtk.Button(label="Arrêter")
        self.stop.connect("clicked", lambda _button: on_stop())
        self.pack_start(self.label, False, False, 0)
        self.pack_start(self.message, True, True, 0)
        self.pack_end(self.stop, False, False, 0)
        self.set_no_show_all(True)

    def show_for(self, mediator: str) -> None:
        self.label.set_text(f"{mediator} voit votre écran")
        self.message.hide()
        self.label.show()
        self.stop.show()
        self.show()

    def say(self, text: str) -> None:
        self.message.set_text(f"{text}")
        self.message.show()


class Pointer(Gtk.DrawingArea):
    """A large pulsing ring where the mediator clicked (x, y in 0..1 of the page); clicks pass through."""

    def __init__(self) -> None:
        super().__init__()
        self.point: tuple[float, float] | None = None
        self.shown_at = 0.0
        self.connect("draw", self.on_draw)
        self.set_no_show_all(True)
        self._ticking = False

    def show_at(self, x: float, y: float) -> None:
        self.point, self.shown_at = (x, y), time.monotonic()
        self.show()
        self.queue_draw()
        if not self._ticking:
            self._ticking = True
            GLib.timeout_add(40, self._tick)

    def clear(self) -> None:
        self.point = None
        self.hide()

    def _tick(self) -> bool:
        if self.point is None or time.monotonic() - self.shown_at > POINT_SHOWN_S:
            self.clear()
            self._ticking = False
            return False
        self.queue_draw()
        return True

    def centre(self) -> tuple[float, float] | None:
        if self.point is None:
            return None
        allocation = self.get_allocation()
        return self.point[0] * allocation.width, self.point[1] * allocation.height

    def on_draw(self, _widget, cairo) -> bool:
        centre = self.centre()
        if centre is None:
            return False
        phase = (time.monotonic() - self.shown_at) * 2 * math.pi / 1.2
        radius = POINT_RADIUS_PX * (0.8 + 0.2 * math.sin(phase))
        cairo.set_source_rgba(0.95, 0.2, 0.0, 0.35)
        cairo.arc(centre[0], centre[1], radius, 0, 2 * math.pi)
        cairo.fill()
        cairo.set_line_width(8)
        cairo.set_source_rgba(0.85, 0.1, 0.0, 0.95)
        cairo.arc(centre[0], centre[1], radius, 0, 2 * math.pi)
        cairo.stroke()
        return False
