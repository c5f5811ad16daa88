"""The national services catalog's staff pages (issue 12): the services with the catalog version in
force, one service's form (what changes in practice: its title, its start address, the sites its journey
may visit), the catalog's history (who, when, what changed, as a readable difference) and rollback. For
staff and admins only (a commune account gets a 403). Every save goes through the kiosk's own checks
(:mod:`provisioning.fleet.catalog`), shows their French messages, and reaches every commune's kiosks at
their next check-in."""

from __future__ import annotations

import json
import time

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from provisioning.fleet import catalog as national
from provisioning.fleet.accounts.access import FLEET_ROLES, db, engine, requires
from provisioning.fleet.dashboard.bundle_diff import differences
from provisioning.fleet.management import ManagementError
from provisioning.fleet.store.management_schema import catalogs

blueprint = Blueprint("catalog", __name__, url_prefix="/tableau")


class CsrfForm(FlaskForm):
    """Only the CSRF token: the fields are read by name and checked by the kiosk's models."""


def _changes(versions: list[int]) -> dict[int, list]:
    wanted = sorted(set(versions) | {version - 1 for version in versions})
    rows = db().execute(sa.select(catalogs.c.version, catalogs.c.content).where(catalogs.c.version.in_(wanted))).all()
    documents = {row.version: national.comparable(json.loads(row.content)) for row in rows}
    return {version: differences(documents[version - 1], documents[version])
            for version in versions if version in documents and version - 1 in documents}


@blueprint.get("/catalogue")
@requires(*FLEET_ROLES)
def catalog_page():
    with_current = national.latest(db())
    history = national.history(engine())
    return render_template("management/catalog.html", form=CsrfForm(), history=history,
                           changes=_changes([item.version for item in history]),
                           services=with_current[1]["catalog"].get("services", []) if with_current else [],
                           version=with_current[0] if with_current else None)


def _hosts(text: str) -> list[str]:
    return [part.strip() for part in text.replace(",", "\n").splitlines() if part.strip()][:50]


@blueprint.route("/catalogue/services/<service_id>", methods=["GET", "POST"])
@requires(*FLEET_ROLES)
def service_page(service_id: str):
    service = national.service(engine(), service_id)
    if service is None:
        abort(404)
    form = CsrfForm()
    problems: list[str] = []
    typed = {"label": service.get("label", ""), "url": service.get("url", ""), "hosts": "\n".join(service.get("hosts", []))}
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        typed = {name: (request.form.get(name) or "").strip()[:2000] for name in national.EDITABLE}
        changes = {"label": typed["label"][:200], "url": typed["url"][:500], "hosts": _hosts(typed["hosts"])}
        try:
            version = national.set_service(engine(), service_id, changes, current_user.username, time.time())
        except ManagementError as error:
            problems = error.problems
        else:
            flash(f"Service enregistré : catalogue version {version}, envoyé à toutes les bornes à leur prochaine connexion.")
            return redirect(url_for("catalog.catalog_page"))
    return render_template("management/catalog_service.html", service=service, typed=typed, form=form,
                           problems=problems), 400 if problems else 200


@blueprint.post("/catalogue/<int:version>/retour")
@requires(*FLEET_ROLES)
def rollback(version: int):
    if not CsrfForm().validate_on_submit():
        abort(400)
    try:
        new_version = national.rollback(engine(), version, current_user.username, time.time())
    except ManagementError as error:
        flash(" ; ".join(error.problems))
    else:
        flash(f"Retour à la version {version} du catalogue publié (version {new_version}).")
    return redirect(url_for("catalog.catalog_page"))
