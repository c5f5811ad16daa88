"""« Demandes de rappel »: the staff's inbox of the residents' call-back requests (issue 13 point 2).

Admin and staff only: a ``commune`` account gets a 403 (the requests hold a resident's name and phone).
Each request shows the commune of the point (never a page or a site), the subject, the moment chosen,
its status, who took it and a short note, which any staff member may change (CSRF-checked form).
"""

from __future__ import annotations

import time

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectChoice, TextAreaField
from wtforms.validators import InputRequired, Length

from provisioning.fleet.accounts.access import FLEET_ROLES, db, engine, requires
from provisioning.fleet.dashboard.callbacks_queries import LABELS, counts, inbox, slot_label, update
from provisioning.fleet.store.engine import write_transaction
from provisioning.fleet.store.help_schema import NOTE_MAX_CHARS, STATUSES

blueprint = Blueprint("callbacks", __name__, url_prefix="/tableau")


class CallbackForm(FlaskForm):
    status = RadioField("État", choices=[SelectChoice(status, LABELS.status_one[status]) for status in STATUSES],
                        validators=[InputRequired(message="choisissez un état.")])
    note = TextAreaField("Note (courte)", validators=[Length(max=NOTE_MAX_CHARS, message=f"{NOTE_MAX_CHARS} caractères au plus.")])


@blueprint.get("/rappels")
@requires(*FLEET_ROLES)
def inbox_page():
    status = request.args.get("etat", "new")
    if status not in STATUSES:
        abort(404)
    rows = inbox(db(), status)
    forms = {row.id: CallbackForm(prefix=f"r{row.id}", data={"status": row.status, "note": row.note or ""})
             for row in rows}
    return render_template("dashboard/callbacks/inbox.html", rows=rows, forms=forms, status=status,
                           counts=counts(db()), labels=LABELS, slot_label=slot_label)


@blueprint.post("/rappels/<int:request_pk>")
@requires(*FLEET_ROLES)
def change(request_pk: int):
    form = CallbackForm(prefix=f"r{request_pk}")
    back = request.args.get("etat", "new")
    back = back if back in STATUSES else "new"
    if not form.validate():
        flash("La demande n'a pas été modifiée : " + " ".join(
            f"{getattr(form, name).label.text} : {' '.join(errors)}" for name, errors in form.errors.items()), "error")
        return redirect(url_for("callbacks.inbox_page", etat=back))
    with write_transaction(engine()) as conn:
        found = update(conn, request_pk, form.status.data, form.note.data or "", current_user.username, time.time())
    if not found:
        abort(404)
    flash(f"Demande mise à jour : {LABELS.status_one[form.status.data].lower()}.")
    return redirect(url_for("callbacks.inbox_page", etat=back))
