"""The "Alertes" page: each staff member chooses which alerts they receive by e-mail, and where."""

from __future__ import annotations

import time

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectChoice, SelectMultipleField
from wtforms.validators import Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from provisioning.fleet.accounts.access import FLEET_ROLES, db, engine, requires
from provisioning.fleet.dashboard.alerts import ALERT_KINDS, save_subscription
from provisioning.fleet.dashboard.severity import SEVERITY
from provisioning.fleet.store.engine import write_transaction
from provisioning.fleet.store.followup_schema import alert_subscriptions

blueprint = Blueprint("alerts", __name__, url_prefix="/tableau")


class AlertForm(FlaskForm):
    email = EmailField("Adresse électronique où recevoir les alertes", validators=[
        Optional(), Length(max=254), Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="par exemple prenom@association.fr.")])
    kinds = SelectMultipleField(
        "Alertes à recevoir", choices=[SelectChoice(kind, SEVERITY[kind].label) for kind in ALERT_KINDS],
        widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())


@blueprint.route("/alertes", methods=["GET", "POST"])
@requires(*FLEET_ROLES)
def alerts():
    import sqlalchemy as sa
    current = db().execute(sa.select(alert_subscriptions).where(
        alert_subscriptions.c.user_id == current_user.id)).first()
    form = AlertForm(data={"email": current.email, "kinds": current.kinds.split(",")} if current else None)
    if form.validate_on_submit():
        with write_transaction(engine()) as conn:
            save_subscription(conn, current_user.id, (form.email.data or "").strip(), form.kinds.data or [], time.time())
        flash("Vos alertes sont enregistrées." if form.email.data and form.kinds.data
              else "Vous ne recevez plus d'alertes.")
        return redirect(url_for("alerts.alerts"))
    return render_template("dashboard/alerts.html", form=form, severity=SEVERITY,
                           kinds=ALERT_KINDS), 400 if form.errors else 200
