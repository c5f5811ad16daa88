"""Panels over the web view (GTK widgets in the window's overlay): the idle question, the document
picker, the "Plus" actions and the end-of-session question. Each covers the page with a backdrop
that swallows clicks, and fits a 800x600 screen: titles and texts wrap, lists scroll.
"""

from __future__ import annotations

import gi

gi.require_version("Gtk", "3.0")
from gi.repository import Gtk  # noqa: E402

from kiosk.window.chrome import SECONDARY, full_label  # noqa: E402

NNBSP = "\u202f"


def _label(text: str, css_class: str, chars: int = 40) -> Gtk.Label:
    label = Gtk.Label(label=text)
    label.set_line_wrap(True)
    label.set_max_width_chars(chars)
    label.set_justify(Gtk.Justification.CENTER)
    label.get_style_context().add_class(css_class)
    return label


def _button(text: str, *classes: str, big: bool = True) -> Gtk.Button:
    button = Gtk.Button(label=text)
    button.get_child().set_line_wrap(True)   # a long label wraps instead of widening the panel
    button.get_child().set_justify(Gtk.Justification.CENTER)
    for css_class in (("big",) if big else ()) + classes:
        button.get_style_context().add_class(css_class)
    return button


def _panel(title: str) -> tuple[Gtk.EventBox, Gtk.Box, Gtk.Label]:
    """A backdrop covering the page (it swallows clicks) with a centred white panel."""
    backdrop = Gtk.EventBox()
    backdrop.get_style_context().add_class("kiosk-backdrop")
    panel = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=20)
    panel.get_style_context().add_class("kiosk-panel")
    panel.set_halign(Gtk.Align.CENTER)
    panel.set_valign(Gtk.Align.CENTER)
    panel.set_margin_start(12)
    panel.set_margin_end(12)
    heading = _label(title, "title", 30)
    panel.pack_start(heading, False, False, 0)
    backdrop.add(panel)
    backdrop.set_no_show_all(True)
    return backdrop, panel, heading


def _reveal(backdrop: Gtk.EventBox) -> None:
    """Show a panel kept out of the window's show_all (no_show_all) with everything in it."""
    backdrop.get_child().show_all()
    backdrop.show()


class _Overlay:
    widget: Gtk.EventBox

    def hide(self) -> None:
        self.widget.hide()

    @property
    def visible(self) -> bool:
        return self.widget.get_visible()

    def panel(self) -> Gtk.Widget:
        return self.widget.get_child()


def countdown_text(seconds_left: int) -> str:
    """The idle question's sentence; French keeps the singular for 0 and 1."""
    unit = "secondes" if seconds_left > 1 else "seconde"
    return (f"Sans réponse, votre session se termine dans {seconds_left} {unit}. "
            "Tout ce que vous avez fait sera effacé.")


class IdleQuestion(_Overlay):
    """"Êtes-vous toujours là ?" with one big answer and the seconds left."""

    def __init__(self, on_answer) -> None:
        self.widget, panel, _ = _panel(f"Êtes-vous toujours là{NNBSP}?")
        self.text = _label("", "text")
        self.button = _button("Je suis encore là")
        self.button.connect("clicked", lambda _button: on_answer())
        panel.pack_start(self.text, False, False, 0)
        panel.pack_start(self.button, False, False, 0)

    def show(self, seconds_left: int) -> None:
        self.update(seconds_left)
        _reveal(self.widget)
        self.button.grab_focus()

    def update(self, seconds_left: int) -> None:
        self.text.set_text(countdown_text(seconds_left))


class DocumentPicker(_Overlay):
    """The kiosk's own file chooser: only this session's documents (and USB copies)."""

    def __init__(self) -> None:
        self.widget, panel, _ = _panel("Choisir un document")
        self.text = _label("", "text", 50)
        self.list = Gtk.Box(orientation=Gtk.Orientation.VERTICAL, spacing=12)
        scroller = Gtk.ScrolledWindow()
        scroller.set_policy(Gtk.PolicyType.NEVER, Gtk.PolicyType.AUTOMATIC)
        scroller.set_min_content_height(80)
        scroller.set_max_content_height(420)
        scroller.set_propagate_natural_height(True)
        scroller.add(self.list)
        self.cancel = _button("Annuler")
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
            self.text.set_text("Vous n’avez pas encore de document. Les documents téléchargés pendant votre "
                               "session, et ceux d’une clé USB branchée, apparaissent ici.")
        for document in documents:
            origin = " (clé USB)" if document.from_usb else ""
            button = Gtk.Button(label=f"{document.name}{origin}")
            button.get_child().set_ellipsize(3)  # Pango.EllipsizeMode.END: a long name never widens the panel
            button.get_style_context().add_class("document")
            button.connect("clicked", lambda _button, key=document.path_key: on_choose(key))
            self.list.pack_start(button, False, False, 0)
        if self._cancel_handler:
            self.cancel.disconnect(self._cancel_handler)
        self._cancel_handler = self.cancel.connect("clicked", lambda _button: on_cancel())
        _reveal(self.widget)
        self.cancel.grab_focus()


class MoreActions(_Overlay):
    """What the toolbar's "Plus…" button opens on a narrow screen: the buttons the row had no room for."""

    def __init__(self, on_action) -> None:
        self.widget, panel, _ = _panel("Autres actions")
        self.buttons: dict[str, Gtk.Button] = {}
        for name in SECONDARY:
            button = _button(full_label(name), "quiet", big=False)  # five buttons: 48 px each fit 800x600
            button.connect("clicked", lambda _button, action=name: (self.hide(), on_action(action)))
            panel.pack_start(button, False, False, 0)
            self.buttons[name] = button
        self.close = _button("Fermer", big=False)
        self.close.connect("clicked", lambda _button: self.hide())
        panel.pack_start(self.close, False, False, 0)

    def show(self) -> None:
        _reveal(self.widget)
        self.close.grab_focus()


class EndQuestion(_Overlay):
    """"Terminer votre session ?": what will be erased, then print first / erase / continue."""

    def __init__(self, *, on_print, on_erase, on_continue) -> None:
        self.widget, panel, _ = _panel(f"Terminer votre session{NNBSP}?")
        self.text = _label("", "text", 44)
        self.text.set_justify(Gtk.Justification.LEFT)
        self.status = _label("", "text", 44)
        self.status.set_no_show_all(True)
        self.print_first = _button("Imprimer mes documents d’abord", "quiet")
        self.erase = _button("Oui, tout effacer", "end")
        self.keep = _button("Non, je continue")
        self.print_first.connect("clicked", lambda _button: on_print())
        self.erase.connect("clicked", lambda _button: on_erase())
        self.keep.connect("clicked", lambda _button: on_continue())
        for widget in (self.text, self.status, self.print_first, self.erase, self.keep):
            panel.pack_start(widget, False, False, 0)

    def show(self, lines: list[str], *, can_print: bool, status: str | None = None) -> None:
        self.text.set_text("\n".join(lines))
        _reveal(self.widget)
        self.print_first.set_visible(can_print)
        self.print_first.set_sensitive(True)
        self.set_status(status)
        self.keep.grab_focus()  # the safe answer has the focus: Enter never erases by accident

    def set_status(self, status: str | None) -> None:
        self.status.set_text(status or "")
        self.status.set_visible(bool(status))
