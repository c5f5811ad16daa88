"""Download routes: the CSV of every dashboard table, GLPI inventories and the mediation-places table.
Each takes the same parameters as its page and applies the same commune scope."""

from __future__ import annotations

import datetime as dt
import json
import time

from flask import Blueprint, Response, abort, current_app, render_template

from provisioning.fleet.accounts.access import ALL_ROLES, check_commune, commune_scope, db, requires
from provisioning.fleet.dashboard import fleet_queries
from provisioning.fleet.dashboard.figures import FigureTable
from provisioning.fleet.dashboard.pages import current_kiosk_version, machine_tables, machine_timeline, read_filters
from provisioning.fleet.dashboard.status import FLAG_LABELS, STATUS_LABELS, flags_of
from provisioning.fleet.dashboard.usage_pages import (places_table, report_context, report_figures, report_params,
                                                      usage_params, usage_tables)
from provisioning.fleet.exports.csvfile import csv_response, table_csv
from provisioning.fleet.exports.glpi import glpi_document
from provisioning.fleet.exports.mediation import places_csv

blueprint = Blueprint("exports", __name__, url_prefix="/tableau/export")
ALL_MACHINES = 1_000_000


def _stamp() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y%m%d")


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _send(table: FigureTable):
    return csv_response(table_csv(table), f"{table.name}-{_stamp()}.csv")


@blueprint.get("/parc.csv")
@requires(*ALL_ROLES)
def fleet_csv():
    filters = read_filters()
    if filters.commune:
        check_commune(filters.commune)
    version = current_kiosk_version()
    result = fleet_queries.overview(db(), filters, time.time(), version, commune_scope(), page_size=ALL_MACHINES)
    table = FigureTable("parc", "Le parc", ["Étiquette", "Code INSEE", "Commune", "État", "Dernière connexion (UTC)",
                                            "Version", "Disque (%)", "Mémoire (%)", "Température (°C)", "Alertes"])
    for row in result["rows"]:
        seen = (dt.datetime.fromtimestamp(row.last_seen_at, dt.timezone.utc).isoformat(timespec="seconds")
                if row.last_seen_at else None)
        table.rows.append([row.asset_tag, row.commune_insee, row.commune_name, STATUS_LABELS[row.status], seen,
                           row.kiosk_version, _round(row.disk_used_percent), _round(row.memory_used_percent),
                           _round(row.temperature_max_c),
                           ", ".join(FLAG_LABELS[f] for f in flags_of(row, version))])
    return _send(table)


@blueprint.get("/usage/<name>.csv")
@requires(*ALL_ROLES)
def usage_csv(name: str):
    for table in usage_tables(usage_params()):
        if table.name == name:
            return _send(table)
    abort(404)


@blueprint.get("/rapport/<name>.csv")
@requires(*ALL_ROLES)
def report_csv(name: str):
    for table in report_figures(report_params()).values():
        if table.name == name:
            return _send(table)
    abort(404)


@blueprint.get("/rapport.pdf")
@requires(*ALL_ROLES)
def report_pdf():
    """The yearly report as a PDF the association can send as it is (WeasyPrint)."""
    from provisioning.fleet.exports.pdf import html_to_pdf
    from provisioning.fleet.exports.pdf_listing import listing
    context = report_context()
    html = render_template("dashboard/report_pdf.html", annex=listing(context["figures"]["communes"]), **context)
    scope = f"-{context['params']['commune']}" if context["params"]["commune"] else ""
    response = Response(html_to_pdf(html), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="rapport-{context["params"]["year"]}{scope}.pdf"'
    response.headers["Cache-Control"] = "no-store"
    return response


@blueprint.get("/communes.csv")
@requires(*ALL_ROLES)
def places_csv_table():
    return _send(places_table())


def _machine(asset_tag: str):
    row = fleet_queries.machine(db(), asset_tag, time.time())
    if row is None:
        abort(404)
    check_commune(row.commune_insee)
    return row


@blueprint.get("/machines/<asset_tag>/<name>.csv")
@requires(*ALL_ROLES)
def machine_csv(asset_tag: str, name: str):
    machine = _machine(asset_tag)
    tables, _charts = machine_tables(db(), machine)
    for table in [*tables, machine_timeline(db(), machine)["table"]]:
        if table.name == name:
            table.name = f"{asset_tag}-{table.name}"
            return _send(table)
    abort(404)


def _json(document, filename: str) -> Response:
    response = Response(json.dumps(document, ensure_ascii=False, indent=1), mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@blueprint.get("/glpi/<asset_tag>.json")
@requires(*ALL_ROLES)
def glpi_one(asset_tag: str):
    _machine(asset_tag)
    row = fleet_queries.machines_with_inventory(db(), commune_scope(), asset_tag).first()
    return _json(glpi_document(row), f"glpi-{asset_tag}.json")


@blueprint.get("/glpi.json")
@requires(*ALL_ROLES)
def glpi_all():
    documents = [glpi_document(row) for row in fleet_queries.machines_with_inventory(db(), commune_scope())]
    return _json(documents, f"glpi-inventaires-{_stamp()}.json")


@blueprint.get("/lieux-mediation-numerique.csv")
@requires(*ALL_ROLES)
def mediation_csv():
    places = [place for place in fleet_queries.places(db(), commune_scope()) if place.machines]
    text, skipped = places_csv(places, current_app.config["FLEET_SETTINGS"].mediation_source)
    response = csv_response(text, f"lieux-mediation-numerique-{_stamp()}.csv")
    if skipped:
        response.headers["X-Lieux-Incomplets"] = str(len(skipped))
    return response


@blueprint.get("/materiel.csv")
@requires(*ALL_ROLES)
def assets_csv():
    from provisioning.fleet.dashboard.asset_register import register_table
    table, _total, _page = register_table(page_size=ALL_MACHINES)
    return _send(table)
