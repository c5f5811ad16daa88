"""Central management's staff pages (issue 12): a commune's bus calendar (edited with the kiosk's own
models and French messages, published as a new signed bundle version), the version history (who, when,
what) and rollback to an earlier version, for staff and admins (a commune account gets a 403); and the
point's opening hours, which a commune account may change for its own commune (and nothing else)."""

from __future__ import annotations

import time

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from provisioning.fleet import management
from kiosk.config.models import DAYS
from provisioning.fleet.accounts.access import ALL_ROLES, FLEET_ROLES, check_commune, engine, requires
from provisioning.fleet.accounts.access import db
from provisioning.fleet.dashboard.bundle_diff import history_changes
from provisioning.fleet.store.schema import communes

blueprint = Blueprint("management", __name__, url_prefix="/tableau")
EMPTY_ROWS = 3
FIELDS = ("date", "hours", "place")


class CsrfForm(FlaskForm):
    """Only the CSRF token: the calendar's rows are read by name and checked by the kiosk's models."""


@blueprint.app_template_filter("motif_refus")
def refusal_words(reason: str | None) -> str:
    return management.refusal_text(reason)


def _commune_name(insee: str) -> str:
    import sqlalchemy as sa
    name = db().execute(sa.select(communes.c.name).where(communes.c.insee == insee)).scalar()
    if name is None:
        abort(404)
    return name


def _rows_from_form(form) -> list[dict]:
    rows = []
    for index in range(management.MAX_BUS_VISITS + EMPTY_ROWS):
        row = {name: (form.get(f"{name}-{index}") or "").strip()[:200] for name in FIELDS}
        if any(row.values()):
            rows.append(row)
    return rows


@blueprint.get("/configuration")
@requires(*FLEET_ROLES)
def communes_configuration():
    """Every commune with the version of its configuration in force and a link to its bus calendar."""
    import sqlalchemy as sa
    from provisioning.fleet.store.management_schema import bundles
    latest = (sa.select(bundles.c.commune_insee, sa.func.max(bundles.c.version).label("version"))
              .group_by(bundles.c.commune_insee).subquery())
    rows = db().execute(sa.select(communes.c.insee, communes.c.name, latest.c.version)
                        .select_from(communes.outerjoin(latest, latest.c.commune_insee == communes.c.insee))
                        .order_by(communes.c.name)).all()
    return render_template("management/communes.html", rows=rows)


@blueprint.route("/communes/<insee>/bus", methods=["GET", "POST"])
@requires(*FLEET_ROLES)
def bus_calendar(insee: str):
    name = _commune_name(insee)
    form = CsrfForm()
    problems: list[str] = []
    rows = management.bus_calendar(engine(), insee)
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        rows = _rows_from_form(request.form)
        try:
            version = management.set_bus_calendar(engine(), insee, rows, current_user.username, time.time())
        except management.ManagementError as error:
            problems = error.problems
        else:
            flash(f"Calendrier du bus enregistré : version {version}, envoyée aux bornes à leur prochaine connexion.")
            return redirect(url_for("management.bus_calendar", insee=insee))
    history = management.history(engine(), insee)
    changes = history_changes(db(), insee, [item.version for item in history])
    return render_template("management/bus_calendar.html", insee=insee, commune_name=name, form=form,
                           rows=rows + [dict.fromkeys(FIELDS, "")] * EMPTY_ROWS, problems=problems,
                           history=history, changes=changes), 400 if problems else 200


DAY_NAMES = {"mo": "Lundi", "tu": "Mardi", "we": "Mercredi", "th": "Jeudi", "fr": "Vendredi", "sa": "Samedi",
             "su": "Dimanche"}


@blueprint.route("/communes/<insee>/horaires", methods=["GET", "POST"])
@requires(*ALL_ROLES)
def opening_hours(insee: str):
    """The point's opening hours: the one thing a commune account may change, for its own commune only."""
    check_commune(insee)
    name = _commune_name(insee)
    form = CsrfForm()
    problems: list[str] = []
    hours = management.opening_hours(engine(), insee)
    typed = {day: ", ".join((hours or {}).get(day, [])) for day in DAYS}
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        typed = {day: (request.form.get(day) or "").strip()[:200] for day in DAYS}
        wanted = {day: [part.strip() for part in text.split(",") if part.strip()] for day, text in typed.items()}
        try:
            version = management.set_opening_hours(engine(), insee, wanted, current_user.username, time.time())
        except management.ManagementError as error:
            problems = [_french_day(problem) for problem in error.problems]
        else:
            flash(f"Horaires enregistrés : version {version}, envoyée aux bornes à leur prochaine connexion.")
            return redirect(url_for("management.opening_hours", insee=insee))
    return render_template("management/opening_hours.html", insee=insee, commune_name=name, form=form,
                           typed=typed, day_names=DAY_NAMES, published=hours is not None,
                           problems=problems), 400 if problems else 200


def _french_day(problem: str) -> str:
    """"mo.0 : plage horaire invalide …" said with the day's name: "Lundi, plage 1 : …"."""
    where, _, message = problem.partition(" : ")
    day, _, index = where.partition(".")
    if day in DAY_NAMES and index.isdigit():
        return f"{DAY_NAMES[day]}, plage {int(index) + 1} : {message}"
    return problem


@blueprint.post("/communes/<insee>/configuration/<int:version>/retour")
@requires(*FLEET_ROLES)
def rollback(insee: str, version: int):
    _commune_name(insee)
    if not CsrfForm().validate_on_submit():
        abort(400)
    try:
        new_version = management.rollback(engine(), insee, version, current_user.username, time.time())
    except management.ManagementError as error:
        flash(" ; ".join(error.problems))
    else:
        flash(f"Retour à la version {version} publié (version {new_version}).")
    return redirect(url_for("management.bus_calendar", insee=insee))
