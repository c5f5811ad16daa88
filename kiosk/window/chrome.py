"""The native parts around the web view: the toolbar, the notice line, the idle question and the
document picker. They are GTK widgets, not HTML injected into pages: a page cannot cover, restyle
or remove them, whatever its Content-Security-Policy or its broken scripts.
"""

from __future__ import annotations

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("Gdk", "3.0")
from gi.repository import Gdk, GLib, Gtk  # noqa: E402

CSS = b"""
#kiosk-toolbar { background-color: #14325c; padding: 6px 8px; }
#kiosk-toolbar button { background-image: none; background-color: #ffffff; color: #14325c; border: 2px solid #ffffff;
  border-radius: 6px; font-size: 18px; font-weight: bold; min-height: 48px; min-width: 48px; padding: 0 14px; }
#kiosk-toolbar button:hover { background-color: #e3ecf7; }
#kiosk-toolbar button:focus, .kiosk-panel button:focus { outline: 4px solid #ffbf47; outline-offset: 2px; }
#kiosk-toolbar button.end { background-color: #b3261e; color: #ffffff; border-color: #ffffff; }
#kiosk-notice { background-color: #fff4d6; color: #1a1a1a; padding: 8px 16px; border-bottom: 2px solid #14325c; }
#kiosk-notice label { font-size: 20px; }
#kiosk-notice button, .kiosk-panel button { background-image: none; background-color: #14325c; color: #ffffff;
  font-size: 20px; font-weight: bold; min-height: 48px; padding: 0 20px; border-radius: 6px; }
.kiosk-backdrop { background-color: rgba(10, 20, 40, 0.72); }
.kiosk-panel { background-color: #ffffff; color: #1a1a1a; border-radius: 12px; padding: 40px; }
.kiosk-panel .title { font-size: 40px; font-weight: bold; }
.kiosk-panel .text { font-size: 22px; }
.kiosk-panel button.big { font-size: 28px; min-height: 72px; padding: 0 40px; }
.kiosk-panel button.document { background-color: #e3ecf7; color: #14325c; border: 2px solid #14325c; }
"""

TOOLBAR_BUTTONS = (
    ("home", "Accueil"), ("back", "Retour"), ("zoom_in", "Texte plus grand"), ("zoom_out", "Texte plus petit"),
    ("print", "Imprimer"), ("documents", "Mes documents"), ("end", "Terminer ma session"),
)


def install_css() -> None:
    provider = Gtk.CssProvider()
    provider.load_from_data(CSS)
    Gtk.StyleContext.add_provider_for_screen(Gdk.Screen.get_default(), provider, Gtk.STYLE_PROVIDER_PRIORITY_APPLICATION)


class Toolbar(Gtk.Box):
    """One row of big buttons; ``on_action(name)`` is called with a name of TOOLBAR_BUTTONS."""

    def __init__(self, on_action) -> None:
        super().__init__(orientation=Gtk.Orientation.HORIZONTAL, spacing=8)
        self.set_name("kiosk-toolbar")
        self.buttons: dict[str, Gtk.Button] = {}
        for name, label in TOOLBAR_BUTTONS:
            button = Gtk.Button(label=label)
            button.connect("clicked", lambda _button, action=name: on_action(action))
            if name == "end":
                button.get_style_context().add_class("end")
                self.pack_end(button, False, False, 0)
            else:
                self.pack_start(button, False, False, 0)
            self.buttons[name] = button


class Notice(Gtk.Box):
    """A calm one-line message under the toolbar (a print went out, a file was refused...)."""

    def __init__(self) -> None:
        super().__init__(orientation=Gtk.Orientation.HORIZONTAL, spacing=16)
        self.set_name("kiosk-notice")
        self.label = Gtk.Label(xalign=0.0)
        self.label.set_line_wrap(True)
        close = Gtk.Button(label="Fermer")
        close.connect("clicked", lambda _button: self.hide())
        self.pack_start(self.label, True, True, 0)
        self.pack_end(close, False, False, 0)
        self.set_no_show_all(True)
        self._timer = 0

    def show_message(self, text: str, seconds: int = 15) -> None:
        self.label.set_text(text)
        for child in self.get_children():
            child.show_all()
        self.show()
        if self._timer:
            GLib.source_remove(self._timer)
        self._timer = GLib.timeout_add_seconds(seconds, self._expire)

    def _expire(self) -> bool:
        self._timer = 0
        self.hide()
        return False

    def clear(self) -> None:
        self.hide()


def _panel(title: str) -> tuple[Gtk.EventBox, Gtk.Box, Gtk.Label]:
    """A backdrop covering the page (it swallows clicks) with a centred white panel."""
    backdrop = Gtk.EventBox()
    backdrop.get_style_context().add_class("kiosk-backdrop")
    panel = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=24)
    panel.get_style_context().add_class("kiosk-panel")
    panel.set_halign(Gtk.Align.CENTER)
    panel.set_valign(Gtk.Align.CENTER)
    heading = Gtk.Label(label=title)
    heading.get_style_context().add_class("title")
    panel.pack_start(heading, False, False, 0)
    backdrop.add(panel)
    backdrop.set_no_show_all(True)
    return backdrop, panel, heading


def _reveal(backdrop: Gtk.EventBox) -> None:
    """Show a panel kept out of the window's show_all (no_show_all) with everything in it."""
    backdrop.get_child().show_all()
    backdrop.show()


def countdown_text(seconds_left: int) -> str:
    """The idle question's sentence; French keeps the singular for 0 and 1."""
    unit = "secondes" if seconds_left > 1 else "seconde"
    return (f"Sans réponse, votre session se termine dans {seconds_left} {unit}. "
            "Tout ce que vous avez fait sera effacé.")


class IdleQuestion:
    """"Êtes-vous toujours là ?" with one big answer and the seconds left."""

    def __init__(self, on_answer) -> None:
        self.widget, panel, _ = _panel("Êtes-vous toujours là ?")
        self.text = Gtk.Label()
        self.text.set_line_wrap(True)
        self.text.set_max_width_chars(40)
        self.text.set_justify(Gtk.Justification.CENTER)
        self.text.get_style_context().add_class("text")
        self.button = Gtk.Button(label="Je suis encore là")
        self.button.get_style_context().add_class("big")
        self.button.connect("clicked", lambda _button: on_answer())
        panel.pack_start(self.text, False, False, 0)
        panel.pack_start(self.button, False, False, 0)

    def show(self, seconds_left: int) -> None:
        self.update(seconds_left)
        _reveal(self.widget)
        self.button.grab_focus()

    def update(self, seconds_left: int) -> None:
        self.text.set_text(countdown_text(seconds_left))

    def hide(self) -> None:
        self.widget.hide()

    @property
    def visible(self) -> bool:
        return self.widget.get_visible()


class DocumentPicker:
    """The kiosk's own file chooser: only this session's documents (and USB copies)."""

    def __init__(self) -> None:
        self.widget, panel, _ = _panel("Choisir un document")
        self.text = Gtk.Label()
        self.text.set_line_wrap(True)
        self.text.set_max_width_chars(50)
        self.text.get_style_context().add_class("text")
        self.list = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=12)
        scroller = Gtk.ScrolledWindow()
        scroller.set_policy(Gtk.PolicyType.NEVER, Gtk.PolicyType.AUTOMATIC)
        scroller.set_min_content_height(120)
        scroller.set_max_content_height(420)
        scroller.set_propagate_natural_height(True)
        scroller.add(self.list)
        self.cancel = Gtk.Button(label="Annuler")
        self.cancel.get_style_context().add_class("big")
        panel.pack_start(self.text, False, False, 0)
        panel.pack_start(scroller, True, True, 0)
        panel.pack_start(self.cancel, False, False, 0)
        self._cancel_handler = 0

    def show(self, documents, on_choose, on_cancel) -> None:
        for child in self.list.get_children():
            self.list.remove(child)
        if documents:
            self.text.set_text("Touchez le document à envoyer.")
        else:
            self.text.set_text("Vous n'avez pas encore de document. Les documents téléchargés pendant votre "
                               "session, et ceux d'une clé USB branchée, apparaissent ici.")
        for document in documents:
            origin = " (clé USB)" if document.from_usb else ""
            button = Gtk.Button(label=f"{document.name}{origin}")
            button.get_style_context().add_class("document")
            button.connect("clicked", lambda _button, key=document.path_key: on_choose(key))
            self.list.pack_start(button, False, False, 0)
        if self._cancel_handler:
            self.cancel.disconnect(self._cancel_handler)
        self._cancel_handler = self.cancel.connect("clicked", lambda _button: on_cancel())
        _reveal(self.widget)
        self.cancel.grab_focus()

    def hide(self) -> None:
        self.widget.hide()

    @property
    def visible(self) -> bool:
        return self.widget.get_visible()
