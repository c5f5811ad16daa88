"""The fleet overview and the machine page."""

from __future__ import annotations

import datetime as dt
import time

from flask import Blueprint, abort, current_app, render_template, request
from flask_login import current_user
from wtforms import SelectChoice

from provisioning.fleet.accounts.access import ALL_ROLES, check_commune, commune_scope, db, requires
from provisioning.fleet.accounts.forms import ConfirmForm, LifecycleForm, MoveForm
from provisioning.fleet.dashboard import fleet_queries as queries
from provisioning.fleet.dashboard.charts import bar_chart
from provisioning.fleet.dashboard.figures import FigureTable
from provisioning.fleet.dashboard.status import FLAG_LABELS, FLAGS, STATUS_LABELS, STATUSES, flags_of
from provisioning.fleet.store.staff_schema import LIFECYCLE_STATES
from provisioning.fleet.dashboard.usage_queries import LIFECYCLE_LABELS

blueprint = Blueprint("dashboard", __name__, url_prefix="/tableau", template_folder="templates",
                      static_folder="static", static_url_path="/static")
HISTORY_DAYS = 90


def current_kiosk_version() -> str:
    return current_app.config["FLEET_SETTINGS"].expected_kiosk_version()


def read_filters() -> queries.OverviewFilters:
    args = request.args
    page = args.get("page", "1")
    lifecycle = args.get("cycle", "deployed")
    return queries.OverviewFilters(
        query=args.get("q", "").strip()[:64],
        commune=args.get("commune") or None,
        status=args.get("statut") if args.get("statut") in STATUSES else None,
        flag=args.get("alerte") if args.get("alerte") in FLAGS else None,
        lifecycle=lifecycle if lifecycle in LIFECYCLE_STATES else None,
        page=int(page) if page.isdigit() and 0 < int(page) < 100000 else 1)


@blueprint.get("/")
@requires(*ALL_ROLES)
def overview():
    filters = read_filters()
    if filters.commune:
        check_commune(filters.commune)
    scope = commune_scope()
    version = current_kiosk_version()
    result = queries.overview(db(), filters, time.time(), version, scope)
    rows = [(row, flags_of(row, version)) for row in result["rows"]]
    return render_template(
        "dashboard/overview.html", result=result, rows=rows, filters=filters,
        communes=queries.commune_choices(db(), scope), statuses=STATUSES, status_labels=STATUS_LABELS,
        flags=FLAGS, flag_labels=FLAG_LABELS, lifecycle_labels=LIFECYCLE_LABELS, version=version)


def machine_tables(conn, machine) -> tuple[list, dict]:
    """The machine page's history tables (and charts): daily health maxima and restarts, last 90 days."""
    since = time.time() - HISTORY_DAYS * 86400
    history = queries.machine_history(conn, machine.id, since)
    restarts = queries.machine_restarts(conn, machine.id, dt.date.fromtimestamp(since).isoformat())
    days = [(dt.datetime.fromtimestamp(row.period_start, dt.timezone.utc).date().isoformat(), row) for row in history]
    health = FigureTable("sante", "Santé, jour par jour (maximum du jour)",
                         ["Jour", "Disque utilisé (%)", "Mémoire utilisée (%)", "Température (°C)", "Relevés"],
                         [[day, _round(row.disk_used_max), _round(row.memory_max), _round(row.temperature_max),
                           row.samples] for day, row in days])
    restart_table = FigureTable("redemarrages", "Démarrages du kiosque, jour par jour", ["Jour", "Démarrages"],
                                [[day, count] for day, count in sorted(restarts.items())])
    by_day = dict(days)
    window = [(dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=offset)).isoformat()
              for offset in range(HISTORY_DAYS - 1, -1, -1)]

    def series(value) -> list[tuple[str, float | None]]:
        return [(day[5:], value(by_day[day]) if day in by_day else None) for day in window]

    charts = {
        "disk": bar_chart("Disque utilisé, maximum du jour (%)", series(lambda r: r.disk_used_max), "%",
                          limit_line=90),
        "memory": bar_chart("Mémoire utilisée, maximum du jour (%)", series(lambda r: r.memory_max), "%"),
        "temperature": bar_chart("Température maximale du jour (°C)", series(lambda r: r.temperature_max), "°C",
                                 limit_line=80),
        "restarts": bar_chart("Démarrages du kiosque par jour",
                              [(day[5:], restarts.get(day)) for day in window]),
    }
    return [health, restart_table], charts


def _round(value):
    return None if value is None else round(value, 1)


@blueprint.get("/machines/<asset_tag>")
@requires(*ALL_ROLES)
def machine(asset_tag: str):
    conn = db()
    row = queries.machine(conn, asset_tag, time.time())
    if row is None:
        abort(404)
    check_commune(row.commune_insee)
    tables, charts = machine_tables(conn, row)
    inventory = queries.latest_inventory(conn, row.id)
    can_manage = current_user.role in ("admin", "staff")
    move_form = MoveForm()
    move_form.commune.choices = [SelectChoice(c.insee, f"{c.name} ({c.insee})") for c in queries.commune_choices(conn, None)] \
        if can_manage else []
    move_form.commune.data = row.commune_insee
    lifecycle_form = LifecycleForm(data={
        "lifecycle_state": row.lifecycle_state, "donor": row.donor, "erasure_certificate": row.erasure_certificate,
        "intake_date": dt.date.fromisoformat(row.intake_date) if row.intake_date else None})
    return render_template(
        "dashboard/machine.html", machine=row, tables=tables, charts=charts, inventory=inventory,
        flags=flags_of(row, current_kiosk_version()), flag_labels=FLAG_LABELS, status_labels=STATUS_LABELS,
        lifecycle_labels=LIFECYCLE_LABELS, lifecycle_states=LIFECYCLE_STATES,
        moves=queries.machine_moves(conn, asset_tag), active_tokens=queries.token_counts(conn, row.id),
        can_manage=can_manage, confirm_form=ConfirmForm(), move_form=move_form, lifecycle_form=lifecycle_form)
