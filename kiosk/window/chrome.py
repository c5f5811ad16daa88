"""The native toolbar and the notice line above the web view. They are GTK widgets, not HTML
injected into pages: a page cannot cover, restyle or remove them, whatever its
Content-Security-Policy or its broken scripts.

The toolbar fits the screen it is on (from 800 px wide up): it picks the widest of its layouts
that fits its allocated width ("complet": every button with its full label; "court": shorter
labels; "plus": the four essential buttons and a "Plus" button opening the others in a panel).
"Accueil", "Retour", "Aide" and "Terminer" are in every layout, with their text. Its minimum
width is the narrowest layout's, so it never asks the window for more width than a screen has.
"""

from __future__ import annotations

import gi

gi.require_version("Gtk", "3.0")
gi.require_version("Gdk", "3.0")
from gi.repository import Gdk, GLib, Gtk  # noqa: E402

CSS = b"""
#kiosk-toolbar { background-color: #14325c; padding: 6px 8px; }
#kiosk-toolbar button { background-image: none; background-color: #ffffff; color: #14325c; border: 2px solid #ffffff;
  border-radius: 6px; font-size: 18px; font-weight: bold; min-height: 48px; min-width: 48px; padding: 0 12px; }
#kiosk-toolbar button:hover { background-color: #e3ecf7; }
#kiosk-toolbar button:focus, .kiosk-panel button:focus { outline: 4px solid #ffbf47; outline-offset: 2px; }
#kiosk-toolbar button.end, .kiosk-panel button.end { background-color: #b3261e; color: #ffffff; border-color: #ffffff; }
#kiosk-toolbar button.help { background-color: #ffbf47; color: #1a1a1a; border-color: #ffbf47; }
#kiosk-toolbar button.help.open { background-color: #ffffff; color: #14325c; }
#kiosk-notice { background-color: #fff4d6; color: #1a1a1a; padding: 8px 16px; border-bottom: 2px solid #14325c; }
#kiosk-notice label { font-size: 20px; }
#kiosk-notice button, .kiosk-panel button { background-image: none; background-color: #14325c; color: #ffffff;
  font-size: 20px; font-weight: bold; min-height: 48px; padding: 0 20px; border-radius: 6px; }
.kiosk-backdrop { background-color: rgba(10, 20, 40, 0.72); }
.kiosk-panel { background-color: #ffffff; color: #1a1a1a; border-radius: 12px; padding: 32px; }
.kiosk-panel .title { font-size: 34px; font-weight: bold; }
.kiosk-panel .text { font-size: 22px; }
.kiosk-panel button.big { font-size: 24px; min-height: 64px; padding: 0 28px; }
.kiosk-panel button.document, .kiosk-panel button.quiet { background-color: #e3ecf7; color: #14325c;
  border: 2px solid #14325c; }
"""

# name, full label, short label. Order is the order on screen; END_GROUP goes to the right.
TOOLBAR_BUTTONS = (
    ("home", "Accueil", "Accueil"),
    ("back", "Retour", "Retour"),
    ("zoom_in", "Texte plus grand", "Texte +"),
    ("zoom_out", "Texte plus petit", "Texte −"),
    ("print", "Imprimer", "Imprimer"),
    ("documents", "Mes documents", "Documents"),
    ("help", "Aide", "Aide"),
    ("end", "Terminer ma session", "Terminer"),
)
END_GROUP = ("help", "end")
ESSENTIAL = ("home", "back", "help", "end")   # always on the toolbar, with their text
SECONDARY = tuple(name for name, _full, _short in TOOLBAR_BUTTONS if name not in ESSENTIAL)
LAYOUTS = ("complet", "court", "plus")        # widest first
MORE_LABEL = "Plus…"
SPACING = 8
BUTTON_MIN_WIDTH = 48                         # the CSS min-width of a toolbar button


def install_css() -> None:
    provider = Gtk.CssProvider()
    provider.load_from_data(CSS)
    Gtk.StyleContext.add_provider_for_screen(Gdk.Screen.get_default(), provider, Gtk.STYLE_PROVIDER_PRIORITY_APPLICATION)


def full_label(name: str) -> str:
    return next(full for key, full, _short in TOOLBAR_BUTTONS if key == name)


class Toolbar(Gtk.Box):
    """One row of big buttons; ``on_action(name)`` is called with a name of TOOLBAR_BUTTONS or "more"."""

    def __init__(self, on_action) -> None:
        super().__init__(orientation=Gtk.Orientation.HORIZONTAL, spacing=SPACING)
        self.set_name("kiosk-toolbar")
        self.buttons: dict[str, Gtk.Button] = {}
        self._labels = {name: {"complet": full, "court": short, "plus": short} for name, full, short in TOOLBAR_BUTTONS}
        for name, full, _short in TOOLBAR_BUTTONS:
            button = Gtk.Button(label=full)
            button.connect("clicked", lambda _button, action=name: on_action(action))
            if name in ("end", "help"):
                button.get_style_context().add_class(name)
            self.buttons[name] = button
        self.more = Gtk.Button(label=MORE_LABEL)
        self.more.connect("clicked", lambda _button: on_action("more"))
        self.more.set_no_show_all(True)
        for name, _full, _short in TOOLBAR_BUTTONS:
            if name not in END_GROUP:
                self.pack_start(self.buttons[name], False, False, 0)
        self.pack_start(self.more, False, False, 0)
        for name in reversed(END_GROUP):
            self.pack_end(self.buttons[name], False, False, 0)
        self.layout = "complet"
        self._pending = None

    # ---------------------------------------------------------------- which layout fits

    def layout_width(self, layout: str) -> int:
        """The width the toolbar needs in ``layout``, measured with the buttons' own fonts and padding."""
        widths = []
        names = list(self.buttons) if layout != "plus" else [*ESSENTIAL]
        for name in names:
            widths.append(self._button_width(self.buttons[name], self._labels[name][layout]))
        if layout == "plus":
            widths.append(self._button_width(self.more, MORE_LABEL))
        style = self.get_style_context()
        padding = style.get_padding(style.get_state())
        border = style.get_border(style.get_state())
        return sum(widths) + SPACING * (len(widths) - 1) + padding.left + padding.right + border.left + border.right

    @staticmethod
    def _button_width(button: Gtk.Button, text: str) -> int:
        """A button's width with ``text``, from its CSS box and its font: the same whether the button
        is shown or hidden (GTK measures a hidden widget as 0 wide, which made layouts flip-flop)."""
        style = button.get_style_context()
        state = style.get_state()
        padding, border, margin = style.get_padding(state), style.get_border(state), style.get_margin(state)
        text_width = button.get_child().create_pango_layout(text).get_pixel_size()[0]
        box = padding.left + padding.right + border.left + border.right + margin.left + margin.right
        return max(BUTTON_MIN_WIDTH, text_width + box)

    def layout_for(self, width: int) -> str:
        for layout in LAYOUTS:
            if self.layout_width(layout) <= width:
                return layout
        return LAYOUTS[-1]

    def use_layout(self, layout: str) -> None:
        self._pending = None
        if layout == self.layout:
            return
        self.layout = layout
        for name, button in self.buttons.items():
            button.set_label(self._labels[name][layout])
            shown = layout != "plus" or name in ESSENTIAL
            button.set_no_show_all(not shown)  # the window's show_all must not bring it back
            button.set_visible(shown)
        self.more.set_visible(layout == "plus")

    def fit(self, width: int) -> None:
        """Pick the layout for ``width`` now (before the first allocation: no flicker at start)."""
        self.use_layout(self.layout_for(width))

    # ---------------------------------------------------------------- GTK size negotiation

    def do_get_preferred_width(self):
        return self.layout_width("plus"), max(self.layout_width(self.layout), self.layout_width("plus"))

    def do_get_preferred_width_for_height(self, _height):
        return self.do_get_preferred_width()

    def do_size_allocate(self, allocation) -> None:
        wanted = self.layout_for(allocation.width)
        if wanted != self.layout and self._pending != wanted:
            # Labels change on the next idle, never in the middle of an allocation.
            self._pending = wanted
            GLib.idle_add(lambda: self.use_layout(wanted) or False)
        Gtk.Box.do_size_allocate(self, allocation)

    def set_help_open(self, is_open: bool) -> None:
        style = self.buttons["help"].get_style_context()
        (style.add_class if is_open else style.remove_class)("open")

    def visible_buttons(self) -> dict[str, Gtk.Button]:
        shown = {name: button for name, button in self.buttons.items() if button.get_visible()}
        if self.more.get_visible():
            shown["more"] = self.more
        return shown


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
