"""The fleet overview and the machine page."""

from __future__ import annotations

import datetime as dt
import time

from flask import Blueprint, abort, current_app, render_template, request
from flask_login import current_user

from provisioning.fleet import management
from provisioning.fleet.accounts.access import ALL_ROLES, check_commune, commune_scope, db, requires
from provisioning.fleet.accounts.forms import ConfirmForm, LifecycleForm, MoveForm, NoteForm
from provisioning.fleet.dashboard import fleet_queries as queries
from provisioning.fleet.dashboard import followup_queries
from provisioning.fleet.dashboard.charts import bar_chart, status_timeline
from provisioning.fleet.dashboard.figures import FigureTable
from provisioning.fleet.dashboard.french import day as day_text, short_day
from provisioning.fleet.dashboard.severity import SEVERITY, severity_of, since_of
from provisioning.fleet.dashboard.status import (FLAG_LABELS, FLAGS, STATUS_LABELS, STATUS_WORDS, STATUSES,
                                                 expected_version, flags_of)
from provisioning.fleet.store.staff_schema import LIFECYCLE_STATES
from provisioning.fleet.dashboard.usage_queries import LIFECYCLE_LABELS

blueprint = Blueprint("dashboard", __name__, url_prefix="/tableau", template_folder="templates",
                      static_folder="static", static_url_path="/static")
HISTORY_DAYS = 90


def current_kiosk_version() -> str:
    """The expected kiosk version, with the fleet's older ones (the "version ancienne" flag is for those)."""
    return expected_version(db(), current_app.config["FLEET_SETTINGS"].expected_kiosk_version())


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
    contacts = followup_queries.commune_contacts(db(), (row.commune_insee for row in result["rows"]))
    rows = []
    for row in result["rows"]:
        flags = flags_of(row, version)
        severity = severity_of(row, flags)
        rows.append({"row": row, "flags": flags, "severity": SEVERITY[severity], "since": since_of(row, severity),
                     "contact": contacts.get(row.commune_insee)})
    return render_template(
        "dashboard/overview.html", result=result, rows=rows, filters=filters,
        communes=queries.commune_choices(db(), scope), statuses=STATUSES, status_labels=STATUS_LABELS,
        status_words=STATUS_WORDS, flags=FLAGS, flag_labels=FLAG_LABELS, lifecycle_labels=LIFECYCLE_LABELS,
        version=version)


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
        return [(short_day(day), value(by_day[day]) if day in by_day else None) for day in window]

    charts = {
        "disk": bar_chart("Disque utilisé, maximum du jour (%)", series(lambda r: r.disk_used_max), "%",
                          limit_line=90),
        "memory": bar_chart("Mémoire utilisée, maximum du jour (%)", series(lambda r: r.memory_max), "%"),
        "temperature": bar_chart("Température maximale du jour (°C)", series(lambda r: r.temperature_max), "°C",
                                 limit_line=80),
        "restarts": bar_chart("Démarrages du kiosque par jour",
                              [(short_day(day), restarts.get(day)) for day in window], integers=True),
    }
    return [health, restart_table], charts


TIMELINE_WORDS = {"online": "en ligne", "late": "en retard", "offline": "hors ligne", "missing": "hors ligne",
                  None: "non relevé"}


def machine_timeline(conn, machine) -> dict:
    """The last 90 days' status, day by day (recorded by ``fleet suivi``; today is the current status)."""
    today = dt.datetime.now(dt.timezone.utc).date()
    days = [today - dt.timedelta(days=offset) for offset in range(HISTORY_DAYS - 1, -1, -1)]
    recorded = followup_queries.status_days(conn, machine.asset_tag, days[0].isoformat())
    enrolled = dt.datetime.fromtimestamp(machine.enrolled_at, dt.timezone.utc).date()
    points = []
    for day in days:
        status = recorded.get(day.isoformat(), machine.status if day == today else None)
        if status == "missing":
            status = "offline"
        points.append((day, status if day >= enrolled else "before"))
    counted = [status for _day, status in points if status != "before"]
    totals = {word: sum(1 for status in counted if status == key) for key, word in
              (("online", "en ligne"), ("late", "en retard"), ("offline", "hors ligne"), (None, "non relevé"))}
    table = FigureTable("chronologie", "État jour par jour (90 jours)", ["Jour", "État"],
                        [[day_text(day), TIMELINE_WORDS[status]] for day, status in reversed(points)
                         if status != "before"])
    return {"chart": status_timeline(points), "totals": totals, "table": table}


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
    timeline = machine_timeline(conn, row)
    flags = flags_of(row, current_kiosk_version())
    severity = severity_of(row, flags)
    note = followup_queries.note(conn, asset_tag)
    contact = followup_queries.commune_contacts(conn, [row.commune_insee]).get(row.commune_insee)
    inventory = queries.latest_inventory(conn, row.id)
    can_manage = current_user.role in ("admin", "staff")
    move_form = MoveForm()  # its options are written by the template: WTForms takes ~0.3 ms per option
    commune_options = queries.commune_choices(conn, None) if can_manage else []
    lifecycle_form = LifecycleForm(data={
        "lifecycle_state": row.lifecycle_state, "donor": row.donor, "erasure_certificate": row.erasure_certificate,
        "intake_date": dt.date.fromisoformat(row.intake_date) if row.intake_date else None})
    return render_template(
        "dashboard/machine.html", machine=row, tables=tables, charts=charts, inventory=inventory,
        flags=flags, flag_labels=FLAG_LABELS, status_labels=STATUS_LABELS, severity=SEVERITY[severity],
        since=since_of(row, severity), timeline=timeline, note=note, contact=contact,
        note_form=NoteForm(data={"text": note.text if note else ""}),
        lifecycle_labels=LIFECYCLE_LABELS, lifecycle_states=LIFECYCLE_STATES,
        moves=queries.machine_moves(conn, asset_tag), active_tokens=queries.token_counts(conn, row.id),
        can_manage=can_manage, confirm_form=ConfirmForm(), move_form=move_form, commune_options=commune_options, lifecycle_form=lifecycle_form,
        bundle_status=management.status_on(conn, asset_tag), now=time.time())
