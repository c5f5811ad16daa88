"""Display choices of the resident (text size in four steps up to 200 %, high contrast) and what every page shows.

The choices live in the session cookie only: the window wipes cookies when a session ends, so the
next resident starts with the usual display.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask import Blueprint, Flask, abort, current_app, g, redirect, request, session, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from kiosk.text.french import date_and_time
from kiosk.shell.state import shell_state

TEXT_SIZES = {"normal": "Normal", "grand": "Grand", "tres-grand": "Très grand", "maximal": "Le plus grand"}
# How much each size enlarges the text (the root font size, in %): the window maps its toolbar's
# text buttons onto these steps on shell pages. RGAA asks for text readable at 200 %.
TEXT_SIZE_PERCENT = {"normal": 100, "grand": 125, "tres-grand": 150, "maximal": 200}
DEFAULT_TEXT_SIZE = "normal"

blueprint = Blueprint("display", __name__)


@dataclass(frozen=True)
class Display:
    text_size: str
    contrast: bool


def current_display() -> Display:
    size = session.get("texte", DEFAULT_TEXT_SIZE)
    return Display(text_size=size if size in TEXT_SIZES else DEFAULT_TEXT_SIZE, contrast=session.get("contraste") is True)


def safe_return_path(value: str | None, app: Flask) -> str:
    """Where to go back after a display change: a GET page of this shell, or the home page."""
    home = url_for("home.index")
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value or len(value) > 300:
        return home
    path, _, query = value.partition("?")
    try:
        app.url_map.bind("localhost").match(path, method="GET")
    except RequestRedirect:
        return home
    except HTTPException:
        return home
    return path + (f"?{query}" if query else "")


def _same_origin() -> bool:
    """A display change must come from the shell's own pages, not from a site open in the kiosk."""
    origin = request.headers.get("Origin")
    return origin is None or origin == request.host_url.rstrip("/")


@blueprint.post("/affichage")
def change():
    if not _same_origin():
        abort(403)
    size = request.form.get("texte")
    if size in TEXT_SIZES:
        session["texte"] = size
    contrast = request.form.get("contraste")
    if contrast in ("oui", "non"):
        session["contraste"] = contrast == "oui"
    return redirect(safe_return_path(request.form.get("retour"), current_app), code=303)


def page_context() -> dict:
    state = shell_state()
    today, time_text = date_and_time(dt.datetime.now())
    return {
        "display": current_display(),
        "text_sizes": TEXT_SIZES,
        "online": state.probe.is_online(),
        "commune": state.config.commune,
        "date_text": today,
        "time_text": time_text,
        "nav_links": state.nav_links,
        "page_scripts": state.page_scripts,
        "status_refresh_s": state.settings.status_refresh_s,
        "in_kiosk_window": state.settings.in_kiosk_window,
        # Back to this page after a display change; views that take a query put a checked one in g.
        "current_path": g.get("return_path") or request.path,
    }


def init_app(app: Flask) -> None:
    app.register_blueprint(blueprint)
    app.context_processor(page_context)
