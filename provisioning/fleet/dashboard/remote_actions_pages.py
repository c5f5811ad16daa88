"""Messages and remote actions in the dashboard (issue 12 point 3), for staff and admins only.

* « Messages aux bornes » (``/tableau/messages``): the banners in force and a form to post one for one
  kiosk, one commune or the whole fleet (French text, 280 characters at most, a last day), and to end one.
* On a machine's page (``management/_machine_remote.html``): queue an action (restart the kiosk session,
  reboot the PC between two sessions, collect a diagnostic), see each action's state and result, cancel
  one the kiosk has not acknowledged yet (« en attente depuis … »), download a diagnostic.

Commune accounts get none of this (403): a banner on their point or a reboot is the association's call,
and a commune account sees its own machines' pages without this section (tests/dashboard/test_permissions.py).
"""

from __future__ import annotations

import datetime as dt
import time

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from provisioning.fleet import remote_actions
from provisioning.fleet.accounts.access import FLEET_ROLES, db, engine, requires
from provisioning.fleet.dashboard.management_pages import CsrfForm
from provisioning.fleet.store.actions_schema import MESSAGE_MAX_CHARS

blueprint = Blueprint("remote_actions", __name__, url_prefix="/tableau")
SCOPES = {"fleet": "Tout le parc", "commune": "Une commune (code INSEE)", "machine": "Une borne (numéro d'inventaire)"}


@blueprint.app_template_global("remote_actions_of")
def remote_actions_of(machine) -> dict:
    """What the machine page's « Messages et actions » section shows (staff only)."""
    now = time.time()
    return {"actions": remote_actions.machine_actions(db(), machine.asset_tag),
            "messages": remote_actions.messages_for_machine(db(), machine.asset_tag, machine.commune_insee, now),
            "kinds": remote_actions.KIND_LABELS, "states": remote_actions.STATE_LABELS, "now": now,
            "form": CsrfForm()}


def _target(scope: str, value: str) -> remote_actions.Target:
    value = (value or "").strip()[:40]
    if scope == "fleet":
        return remote_actions.Target()
    if scope == "commune" and value:
        return remote_actions.Target(commune_insee=value)
    if scope == "machine" and value:
        return remote_actions.Target(asset_tag=value.upper())
    raise remote_actions.ActionError(["destinataires : choisissez tout le parc, ou indiquez la commune ou la borne"])


@blueprint.route("/messages", methods=["GET", "POST"])
@requires(*FLEET_ROLES)
def messages_page():
    form = CsrfForm()
    problems: list[str] = []
    typed = {"scope": "fleet", "target": "", "text": "", "ends_on": (dt.date.today() + dt.timedelta(days=7)).isoformat()}
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        typed = {name: (request.form.get(name) or "")[:MESSAGE_MAX_CHARS * 2] for name in typed}
        try:
            remote_actions.post_message(engine(), _target(typed["scope"], typed["target"]), typed["text"],
                                        typed["ends_on"], current_user.username, time.time())
        except remote_actions.ActionError as error:
            problems = error.problems
        else:
            flash("Message enregistré : les bornes concernées l'afficheront après leur prochaine connexion.")
            return redirect(url_for("remote_actions.messages_page"))
    rows = remote_actions.active_messages(db(), time.time())
    return render_template("management/messages.html", form=form, rows=rows, problems=problems, typed=typed,
                           scopes=SCOPES, max_chars=MESSAGE_MAX_CHARS), 400 if problems else 200


@blueprint.post("/messages/<int:message_id>/fin")
@requires(*FLEET_ROLES)
def end_message(message_id: int):
    if not CsrfForm().validate_on_submit():
        abort(400)
    if remote_actions.end_message(engine(), message_id, time.time()):
        flash("Message retiré : les bornes ne l'afficheront plus après leur prochaine connexion.")
    back = request.form.get("retour") or ""
    if back.startswith("/tableau/") and "//" not in back:
        return redirect(back)
    return redirect(url_for("remote_actions.messages_page"))


@blueprint.post("/machines/<asset_tag>/actions")
@requires(*FLEET_ROLES)
def queue(asset_tag: str):
    if not CsrfForm().validate_on_submit():
        abort(400)
    kind = request.form.get("kind") or ""
    try:
        remote_actions.queue_action(engine(), asset_tag, kind, current_user.username, time.time())
    except remote_actions.ActionError as error:
        flash(" ; ".join(error.problems))
    else:
        flash(f"Action « {remote_actions.KIND_LABELS[kind]} » envoyée : la borne la recevra à sa prochaine connexion.")
    return redirect(url_for("dashboard.machine", asset_tag=asset_tag) + "#remote-title")


@blueprint.post("/machines/<asset_tag>/actions/<int:action_id>/annuler")
@requires(*FLEET_ROLES)
def cancel(asset_tag: str, action_id: int):
    if not CsrfForm().validate_on_submit():
        abort(400)
    if remote_actions.cancel_action(engine(), asset_tag, action_id, current_user.username, time.time()):
        flash("Action annulée.")
    else:
        flash("Trop tard pour annuler : la borne a déjà pris cette action en charge.")
    return redirect(url_for("dashboard.machine", asset_tag=asset_tag) + "#remote-title")


@blueprint.get("/machines/<asset_tag>/actions/<int:action_id>/diagnostic")
@requires(*FLEET_ROLES)
def diagnostic(asset_tag: str, action_id: int):
    text = remote_actions.diagnostic_of(engine(), asset_tag, action_id)
    if text is None:
        abort(404)
    response = Response(text, mimetype="text/plain")
    response.headers["Content-Disposition"] = f'attachment; filename="diagnostic-{asset_tag}-{action_id}.txt"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
