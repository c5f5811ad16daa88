"""What staff change from the dashboard: a machine's token, commune, life cycle and note; a commune's place.
Every action is a POST with a CSRF-checked form, for ``admin`` and ``staff`` only."""

from __future__ import annotations

import time

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from wtforms import SelectChoice

from provisioning.fleet.accounts.access import FLEET_ROLES, db, engine, requires
from provisioning.fleet.accounts.forms import ConfirmForm, LifecycleForm, MoveForm, NoteForm, PlaceForm
from provisioning.fleet.dashboard import fleet_queries as queries
from provisioning.fleet.dashboard import followup_queries
from provisioning.fleet.dashboard.asset_register import save_asset
from provisioning.fleet.store.readmodel import move_machine, save_place
from provisioning.fleet.store.staff_schema import commune_places
from provisioning.fleet.store.engine import write_transaction
from provisioning.fleet.enrolment import request_rotation, revoke_tokens
from provisioning.fleet.store.schema import communes, devices

blueprint = Blueprint("dashboard_actions", __name__, url_prefix="/tableau")


def _existing_machine(asset_tag: str) -> None:
    if db().execute(sa.select(devices.c.id).where(devices.c.asset_tag == asset_tag)).first() is None:
        abort(404)


def _back(asset_tag: str):
    return redirect(url_for("dashboard.machine", asset_tag=asset_tag))


@blueprint.post("/machines/<asset_tag>/jeton/revoquer")
@requires(*FLEET_ROLES)
def revoke(asset_tag: str):
    _existing_machine(asset_tag)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    count = revoke_tokens(engine(), asset_tag, time.time())
    flash(f"Jeton révoqué ({count}). La machine devra être inscrite à nouveau avec un nouveau code.")
    return _back(asset_tag)


@blueprint.post("/machines/<asset_tag>/jeton/renouveler")
@requires(*FLEET_ROLES)
def rotate(asset_tag: str):
    _existing_machine(asset_tag)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    request_rotation(engine(), asset_tag, time.time())
    flash("Renouvellement demandé : la machine recevra un nouveau jeton à sa prochaine connexion.")
    return _back(asset_tag)


@blueprint.post("/machines/<asset_tag>/commune")
@requires(*FLEET_ROLES)
def move(asset_tag: str):
    _existing_machine(asset_tag)
    form = MoveForm()
    form.commune.choices = [SelectChoice(c.insee, c.name) for c in queries.commune_choices(db(), None)]
    if not form.validate_on_submit():
        abort(400)
    with write_transaction(engine()) as conn:
        move_machine(conn, asset_tag, form.commune.data, time.time(), current_user.username)
    flash("Machine rattachée à sa nouvelle commune.")
    return _back(asset_tag)


@blueprint.post("/machines/<asset_tag>/cycle")
@requires(*FLEET_ROLES)
def lifecycle(asset_tag: str):
    _existing_machine(asset_tag)
    form = LifecycleForm()
    if not form.validate_on_submit():
        for field, errors in form.errors.items():
            flash(f"{getattr(form, field).label.text} : {' '.join(errors)}", "error")
        return _back(asset_tag)
    values = {"lifecycle_state": form.lifecycle_state.data, "donor": form.donor.data or None,
              "intake_date": form.intake_date.data.isoformat() if form.intake_date.data else None,
              "erasure_certificate": form.erasure_certificate.data or None}
    save_asset(engine(), asset_tag, values)
    flash("Cycle de vie enregistré.")
    return _back(asset_tag)


@blueprint.post("/machines/<asset_tag>/note")
@requires(*FLEET_ROLES)
def note(asset_tag: str):
    _existing_machine(asset_tag)
    form = NoteForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            flash(f"Note non enregistrée : {' '.join(errors)}", "error")
        return _back(asset_tag)
    with write_transaction(engine()) as conn:
        followup_queries.save_note(conn, asset_tag, (form.text.data or "").strip(), time.time(),
                                   current_user.username)
    flash("Note enregistrée." if (form.text.data or "").strip() else "Note effacée.")
    return _back(asset_tag)


@blueprint.route("/communes/<insee>", methods=["GET", "POST"])
@requires(*FLEET_ROLES)
def place(insee: str):
    commune = db().execute(sa.select(communes).where(communes.c.insee == insee)).first()
    if commune is None:
        abort(404)
    current = db().execute(sa.select(commune_places).where(commune_places.c.insee == insee)).first()
    form = PlaceForm(obj=current)
    if form.validate_on_submit():
        values = {name: (getattr(form, name).data or "").strip() or None
                  for name in ("postal_code", "address", "siret", "opening_hours", "phone", "email")}
        save_place(engine(), insee, values)
        flash("Informations du point numérique enregistrées.")
        return redirect(url_for("usage.places"))
    return render_template("dashboard/place.html", commune=commune, form=form), 200 if not form.errors else 400

