"""The home screen: the tiles "à la une", the pages of all services, and opening a tile.

Nothing on the first screen is hidden below the fold: the home shows only the tiles "à la une"
(as many as fit the smallest supported screen at the resident's text size), and one big button
leads to all the services, by category, in pages that each fit the screen, turned with visible
"Suite" / "Retour" links (real links: no script, the window's "Retour" works the same way).
The page size depends only on the text size, so a page looks the same on every screen and the
server decides it (the strict CSP allows only our own scripts, and none is needed).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, Response, abort, g, redirect, render_template, request, url_for

from kiosk.config.loader import Tile
from kiosk.config.models import Category
from kiosk.events import Event, EventKind
from kiosk.shell.display import current_display
from kiosk.shell.state import shell_state

blueprint = Blueprint("home", __name__)

# Tiles "à la une" shown per text size: all of them fit 1024 × 688 (the smallest screen less the
# window's toolbar) at that size. The others are still one button away.
FEATURED_PER_SIZE = {"normal": 8, "grand": 8, "tres-grand": 4, "maximal": 4}


@dataclass(frozen=True)
class PageBudget:
    """How a page of "Tous les services" is filled at one text size, calibrated on 1024 × 688 (the
    smallest screen less the window's toolbar; tests/shell/test_screens.py checks every size)."""

    columns: int      # tiles side by side at 1024 px (the CSS grid: tiles at least 20rem wide)
    row_px: int       # height of one row of tiles, gap included
    heading_px: int   # height of a category heading
    budget_px: int    # height left for headings and tiles once the header, title and page links are placed


PAGE_BUDGETS = {
    "normal": PageBudget(columns=3, row_px=120, heading_px=50, budget_px=430),
    "grand": PageBudget(columns=2, row_px=150, heading_px=62, budget_px=400),
    "tres-grand": PageBudget(columns=2, row_px=152, heading_px=74, budget_px=370),
    "maximal": PageBudget(columns=1, row_px=238, heading_px=98, budget_px=340),
}


@dataclass(frozen=True)
class ServicesPage:
    number: int  # from 1
    count: int
    sections: list[tuple[Category, list[Tile], bool]]  # category, its tiles on this page, continued from before


def services_pages(categories: list[tuple[Category, list[Tile]]], budget: PageBudget) -> list[ServicesPage]:
    """Cut the categories into pages that fit the screen; every tile is on exactly one page, in order,
    a category cut between two pages says "(suite)" on the second."""
    pages: list[list[tuple[Category, list[Tile], bool]]] = [[]]
    used = 0
    for category, tiles in categories:
        rows = [tiles[start:start + budget.columns] for start in range(0, len(tiles), budget.columns)]
        for index, row in enumerate(rows):
            same_section = bool(pages[-1]) and pages[-1][-1][0].id == category.id
            cost = budget.row_px + (0 if same_section else budget.heading_px)
            if used + cost > budget.budget_px and pages[-1]:
                pages.append([])
                used, same_section = 0, False
                cost = budget.row_px + budget.heading_px
            if same_section:
                pages[-1][-1][1].extend(row)
            else:
                pages[-1].append((category, list(row), index > 0))
            used += cost
    return [ServicesPage(number=number, count=len(pages), sections=sections)
            for number, sections in enumerate(pages, start=1)]


@blueprint.get("/")
def index():
    config = shell_state().config
    featured = config.featured_tiles()[:FEATURED_PER_SIZE[current_display().text_size]]
    return render_template("home.html", featured=featured, service_count=len(config.tiles))


@blueprint.get("/services")
def all_services():
    config = shell_state().config
    pages = services_pages(config.categories(), PAGE_BUDGETS[current_display().text_size])
    raw = request.args.get("page", "1")
    number = int(raw) if raw.isdigit() and len(raw) <= 4 else 1
    number = min(max(number, 1), len(pages))  # after a text size change the page count changes
    g.return_path = url_for("home.all_services", page=number)
    return render_template("services.html", page=pages[number - 1], service_count=len(config.tiles))


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
