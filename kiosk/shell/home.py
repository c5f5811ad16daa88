"""The home screen: the configured tiles by category, and opening a tile."""

from __future__ import annotations

from flask import Blueprint, Response, abort, redirect, render_template, url_for

from kiosk.events import Event, EventKind
from kiosk.shell.state import shell_state

blueprint = Blueprint("home", __name__)


@blueprint.get("/")
def index():
    return render_template("home.html", categories=shell_state().config.categories())


@blueprint.get("/ouvrir/<tile_id>")
def open_tile(tile_id: str):
    state = shell_state()
    tile = state.config.tile(tile_id)
    if tile is None:
        abort(404)
    if not state.probe.is_online():
        return redirect(url_for("window_pages.offline", tuile=tile.id), code=302)
    if state.events is not None:
        state.events.emit(Event.now(EventKind.TILE_OPENED, tile_id=tile.id))
    return redirect(tile.url, code=302)


@blueprint.get("/pictogrammes/<tile_id>.svg")
def pictogram(tile_id: str):
    data = shell_state().pictograms.get(tile_id)
    if data is None:
        abort(404)
    response = Response(data, mimetype="image/svg+xml")
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
