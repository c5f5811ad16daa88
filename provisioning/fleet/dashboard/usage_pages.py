"""The usage page, the yearly report for funders, and the list of town-hall points."""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

import yaml
from flask import Blueprint, current_app, render_template, request

from provisioning.fleet.accounts.access import ALL_ROLES, check_commune, commune_scope, db, requires
from provisioning.fleet.dashboard import fleet_queries, usage_queries
from provisioning.fleet.dashboard.charts import bar_chart
from provisioning.fleet.dashboard.figures import FigureTable

blueprint = Blueprint("usage", __name__, url_prefix="/tableau")
DEFAULT_DAYS = 90
COMMUNES_SHOWN = 50  # the page's table per commune (the CSV export has them all)
CATALOG = Path(__file__).resolve().parents[3] / "config" / "services.yaml"


@functools.lru_cache(maxsize=4)
def tile_labels(path: str) -> dict[str, str]:
    """Tile id → label, from the national catalog (ids are shown when the catalog is not there)."""
    try:
        catalog = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except OSError:
        return {}
    return {service["id"]: service["label"] for service in catalog.get("services", []) if "id" in service}


def requested_commune() -> str | None:
    """The commune asked for (404 for a commune account asking another), or the account's own."""
    requested = request.args.get("commune") or None
    if requested:
        check_commune(requested)
    return commune_scope() or requested


def _day(name: str, default: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(request.args.get(name, ""))
    except ValueError:
        return default


def usage_params() -> dict:
    """Period, commune and granularity of the usage page (and of its CSV exports)."""
    today = dt.datetime.now(dt.timezone.utc).date()
    end = _day("au", today)
    # Default: the last three calendar months to date (whole months: read from the monthly counters).
    start = _day("du", (end.replace(day=1) - dt.timedelta(days=DEFAULT_DAYS - 31)).replace(day=1))
    if start > end:
        start, end = end, start
    granularity = request.args.get("par", "day")
    commune = requested_commune()
    return {"start": start.isoformat(), "end": end.isoformat(), "commune": commune,
            "granularity": granularity if granularity in usage_queries.GRANULARITIES else "day"}


def usage_tables(params: dict, commune_limit: int | None = None) -> list[FigureTable]:
    conn, start, end, commune = db(), params["start"], params["end"], params["commune"]
    labels = tile_labels(current_app.config["FLEET_SETTINGS"].catalog_path or str(CATALOG))
    return [
        usage_queries.sessions_by_period(conn, start, end, commune, params["granularity"]),
        usage_queries.by_commune(conn, start, end, commune, commune_limit),
        usage_queries.by_tile(conn, start, end, commune, labels),
        usage_queries.session_lengths(conn, start, end, commune),
    ]


def _chart(table: FigureTable, label_column: int, value_column: int, limit: int | None = None):
    rows = table.rows[:limit] if limit else table.rows
    return bar_chart(table.title, [(str(row[label_column]), row[value_column]) for row in rows], suppress_small=True)


@blueprint.get("/usage")
@requires(*ALL_ROLES)
def usage():
    params = usage_params()
    tables = usage_tables(params, commune_limit=COMMUNES_SHOWN)
    charts = {tables[0].name: _chart(tables[0], 0, 1), tables[2].name: _chart(tables[2], 1, 2, limit=15),
              tables[3].name: _chart(tables[3], 0, 1)}
    return render_template("dashboard/usage.html", params=params, tables=tables, charts=charts,
                           communes=fleet_queries.commune_choices(db(), commune_scope()),
                           granularities=usage_queries.GRANULARITIES)


def report_params() -> dict:
    this_year = dt.datetime.now(dt.timezone.utc).year
    year = request.args.get("annee", "")
    commune = requested_commune()
    return {"year": int(year) if year.isdigit() and 2020 <= int(year) <= this_year else this_year,
            "commune": commune}


@blueprint.get("/rapport")
@requires(*ALL_ROLES)
def report():
    params = report_params()
    figures = usage_queries.yearly_report(db(), params["year"], params["commune"])
    chart = _chart(figures["monthly"], 0, 1)
    commune_name = None
    if params["commune"]:
        commune_name = next((c.name for c in fleet_queries.commune_choices(db(), params["commune"])), params["commune"])
    return render_template("dashboard/report.html", params=params, figures=figures, chart=chart,
                           commune_name=commune_name, communes=fleet_queries.commune_choices(db(), commune_scope()),
                           generated=dt.datetime.now(dt.timezone.utc).strftime("%d/%m/%Y"))


def places_table() -> FigureTable:
    rows = fleet_queries.places(db(), commune_scope())
    return FigureTable("communes", "Les communes et leur point numérique",
                       ["Code INSEE", "Commune", "Connexion attendue (minutes)", "Code postal", "Adresse", "SIRET",
                        "Horaires", "Machines"],
                       [[r.insee, r.name, round(r.expected_interval_s / 60), r.postal_code, r.address, r.siret,
                         r.opening_hours, r.machines] for r in rows])


@blueprint.get("/communes")
@requires(*ALL_ROLES)
def places():
    return render_template("dashboard/places.html", table=places_table())
