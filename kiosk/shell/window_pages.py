"""Pages the window shows instead of a raw browser error: refused host, session ended, offline
(the other "what went wrong" pages are in ``unreachable.py``)."""

from __future__ import annotations

from flask import Blueprint, g, redirect, render_template, request, url_for

from kiosk.hosts import is_valid_host
from kiosk.shell.state import shell_state
from kiosk.shell.unreachable import render_connection_problem

blueprint = Blueprint("window_pages", __name__)


@blueprint.get("/non-autorise")
def not_allowed():
    raw = request.args.get("hote", "").strip().lower().rstrip(".")
    host = raw if raw and len(raw) <= 253 and is_valid_host(raw) else None
    g.return_path = url_for("window_pages.not_allowed", hote=host) if host else None
    return render_template("not_allowed.html", host=host)


@blueprint.get("/session-terminee")
def session_ended():
    return render_template("session_ended.html")


@blueprint.get("/hors-ligne")
def offline():
    state = shell_state()
    tile = state.config.tile(request.args.get("tuile", ""))
    g.return_path = url_for("window_pages.offline", tuile=tile.id) if tile else None
    retry = url_for("home.open_tile", tile_id=tile.id) if tile else url_for("home.index")
    return render_connection_problem(state.probe.status().state, tile, retry)


@blueprint.get("/aide/fermer")
def close_help():
    """"Fermer l’aide" of the help shown over a page: the window intercepts it; anywhere else, the home."""
    return redirect(url_for("home.index"))
