"""The usage page, the yearly report for funders, and the list of town-hall points."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import functools
from pathlib import Path

import yaml
from markupsafe import Markup
from flask import Blueprint, current_app, render_template, request

from provisioning.fleet.accounts.access import ALL_ROLES, check_commune, commune_scope, db, engine, requires
from provisioning.fleet.dashboard import fleet_queries, french, report_queries, usage_queries
from provisioning.fleet.dashboard.charts import bar_chart, ranking_chart
from provisioning.fleet.dashboard.figures import FigureTable
from provisioning.fleet.store.readmodel import fold_usage

blueprint = Blueprint("usage", __name__, url_prefix="/tableau")
DEFAULT_DAYS = 90
COMMUNES_SHOWN = 50  # the page's table per commune (the CSV export has them all)
CATALOG = Path(__file__).resolve().parents[3] / "config" / "services.yaml"


LOCAL_TILE = "Service propre à la commune ({})"
OTHER_CATEGORY = "Services propres aux communes"


@functools.lru_cache(maxsize=4)
def _catalog(path: str) -> dict:
    try:
        return yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return {}


class TileNames(dict):
    """Tile id → label, from the national catalog; a commune's own tile (not in the catalog) is named
    « Service propre à la commune (mairie) » rather than shown as a bare id."""

    def __missing__(self, key: str) -> str:
        return LOCAL_TILE.format(key)

    def get(self, key, default=None):  # usage_queries.by_tile asks with .get
        return self[key]


def tile_labels(path: str) -> TileNames:
    catalog = _catalog(path)
    return TileNames({service["id"]: service["label"] for service in catalog.get("services", []) if "id" in service})


def tile_categories(path: str) -> dict[str, str]:
    """Tile id → the label of its service category (« Emploi »), from the national catalog."""
    catalog = _catalog(path)
    names = {category["id"]: category["label"] for category in catalog.get("categories", []) if "id" in category}
    return {service["id"]: names.get(service.get("category"), OTHER_CATEGORY)
            for service in catalog.get("services", []) if "id" in service}


def catalog_path() -> str:
    return current_app.config["FLEET_SETTINGS"].catalog_path or str(CATALOG)


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


def usage_connection():
    """The request's connection, reading the usage counters once the inbox is folded into them."""
    fold_usage(engine())
    conn = db()
    conn.rollback()  # a read begun earlier in this request would not see the fold
    return conn


def usage_tables(params: dict, commune_limit: int | None = None) -> list[FigureTable]:
    conn, start, end, commune = usage_connection(), params["start"], params["end"], params["commune"]
    labels = tile_labels(catalog_path())
    return [
        usage_queries.sessions_by_period(conn, start, end, commune, params["granularity"]),
        usage_queries.by_commune(conn, start, end, commune, commune_limit),
        usage_queries.by_tile(conn, start, end, commune, labels),
        usage_queries.session_lengths(conn, start, end, commune),
    ]


def period_label(period: str) -> str:
    """An axis label for a period of the usage tables: « 18 nov. », « S05 », « janv. 2026 »."""
    if "-S" in period:
        return "S" + period.rsplit("-S", 1)[1]
    if len(period) == 7:
        return french.short_month(period) + " " + period[:4]
    return french.short_day(period)


def period_words(period: str) -> str:
    """A period in words for the page's tables: « janvier 2026 », « semaine 5 de 2026 », « 18 novembre 2026 »
    (the CSV keeps the ISO form, which sorts)."""
    if "-S" in period:
        year, week = period.split("-S")
        return f"semaine {int(week)} de {year}"
    return french.month(period) if len(period) == 7 else french.day(period)


def for_page(table: FigureTable) -> FigureTable:
    """A copy of a per-period table whose first column reads in words."""
    return dataclasses.replace(table, rows=[[period_words(row[0]), *row[1:]] for row in table.rows])


def sessions_chart(table: FigureTable):
    """Sessions and printed pages per period: two series, with a legend."""
    return bar_chart(table.title, [(period_label(row[0]), (row[1], row[2])) for row in table.rows],
                     suppress_small=True, integers=True, series=("Sessions", "Pages imprimées"))


def _chart(table: FigureTable, label_column: int, value_column: int, limit: int | None = None):
    rows = table.rows[:limit] if limit else table.rows
    return bar_chart(table.title, [(str(row[label_column]), row[value_column]) for row in rows], suppress_small=True,
                     integers=True)


def _ranking(table: FigureTable, label_column: int, value_column: int, limit: int = 15):
    return ranking_chart(table.title, [(str(row[label_column]), row[value_column]) for row in table.rows[:limit]],
                         suppress_small=True)


@blueprint.get("/usage")
@requires(*ALL_ROLES)
def usage():
    params = usage_params()
    tables = usage_tables(params, commune_limit=COMMUNES_SHOWN)
    charts = {tables[0].name: sessions_chart(tables[0]), tables[1].name: _ranking(tables[1], 1, 2, limit=30),
              tables[2].name: _ranking(tables[2], 1, 2), tables[3].name: _chart(tables[3], 0, 1)}
    tables[0] = for_page(tables[0])
    return render_template("dashboard/usage.html", params=params, tables=tables, charts=charts,
                           communes=fleet_queries.commune_choices(db(), commune_scope()),
                           granularities=usage_queries.GRANULARITIES)


def report_params() -> dict:
    this_year = dt.datetime.now(dt.timezone.utc).year
    year = request.args.get("annee", "")
    commune = requested_commune()
    return {"year": int(year) if year.isdigit() and 2020 <= int(year) <= this_year else this_year,
            "commune": commune}


def report_figures(params: dict, communes_shown: int | None = None) -> dict[str, FigureTable]:
    """Every table of the yearly report (page, CSV and PDF): key figures and their comparison with the
    previous year, each commune (only the ``communes_shown`` most active when given: the page), service
    categories, month by month, the fleet by stage."""
    conn, year, commune = usage_connection(), params["year"], params["commune"]
    figures = usage_queries.yearly_report(conn, year, commune)
    previous = usage_queries.yearly_report(conn, year - 1, commune, states=figures["states"], months=False)
    return {"summary": figures["summary"], "comparison": report_queries.comparison(figures["summary"], previous["summary"]),
            "communes": (report_queries.by_commune(conn, year, commune) if communes_shown is None
                         else report_queries.most_active_by_commune(conn, year, commune, communes_shown)),
            "categories": report_queries.by_category(conn, year, commune, tile_categories(catalog_path()),
                                                     OTHER_CATEGORY),
            "monthly": figures["monthly"], "lifecycle": figures["lifecycle"]}


def association() -> dict:
    """The association's name and logo (a data: URL, or None) from the settings, for the report."""
    settings = current_app.config["FLEET_SETTINGS"]
    return {"name": settings.association_name or "L'association", "logo": logo_data_url(settings.association_logo_path)}


LOGO_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".svg": "image/svg+xml"}
LOGO_MAX_BYTES = 1024 * 1024


@functools.lru_cache(maxsize=4)
def logo_data_url(path: str) -> str | None:
    """The logo file as a data: URL (the page's CSP allows data: images; the PDF needs no file access)."""
    if not path:
        return None
    kind = LOGO_TYPES.get(Path(path).suffix.lower())
    try:
        content = Path(path).read_bytes() if kind else b""
    except OSError:
        content = b""
    if not kind or not content or len(content) > LOGO_MAX_BYTES:
        current_app.logger.warning("association_logo_path %r: not a readable PNG, JPEG or SVG file under 1 MB", path)
        return None
    return f"data:{kind};base64,{base64.b64encode(content).decode('ascii')}"


def css_string(text: str) -> Markup:
    """Text as a quoted CSS string (the PDF's page footer): every character but letters, digits and
    spaces written as a CSS escape, so nothing in a setting can end the string or the style sheet."""
    return Markup('"' + "".join(c if c.isalnum() or c == " " else f"\\{ord(c):x} " for c in text) + '"')


def report_context(communes_shown: int | None = None) -> dict:
    params = report_params()
    figures = report_figures(params, communes_shown)
    chart = sessions_chart(figures["monthly"])
    figures["monthly"] = for_page(figures["monthly"])
    commune_name = None
    if params["commune"]:
        commune_name = next((c.name for c in fleet_queries.commune_choices(db(), params["commune"])), params["commune"])
    return {"params": params, "figures": figures, "chart": chart, "commune_name": commune_name,
            "communes": fleet_queries.commune_choices(db(), commune_scope()), "association": association(),
            "footer_css": css_string(f"{association()['name']} — rapport {params['year']} — page "),
            "generated": french.day(dt.datetime.now(dt.timezone.utc).date())}


@blueprint.get("/rapport")
@requires(*ALL_ROLES)
def report():
    return render_template("dashboard/report.html", **report_context(COMMUNES_SHOWN))


def places_table() -> FigureTable:
    rows = fleet_queries.places(db(), commune_scope())
    return FigureTable("communes", "Les communes et leur point numérique",
                       ["Code INSEE", "Commune", "Connexion attendue", "Code postal", "Adresse", "SIRET",
                        "Horaires", "Téléphone", "Courriel", "Machines"],
                       [[r.insee, r.name, french.interval(r.expected_interval_s), r.postal_code, r.address, r.siret,
                         french.opening_hours(r.opening_hours) if r.opening_hours else None, r.phone, r.email,
                         r.machines] for r in rows])


@blueprint.get("/communes")
@requires(*ALL_ROLES)
def places():
    return render_template("dashboard/places.html", table=places_table())
