"""« Voir l'écran »: the mediator's side of consented remote assistance (issue 13 point 3).

Admin and staff only (a ``commune`` account gets a 403). From a machine's page a mediator asks, under
the name the resident will read; the viewer page then shows the kiosk's page live once the resident
said « Oui », lets her point (a click: x, y in 0..1) and write a short message, and stop. Only the
mediator who asked may open her viewer: a second one cannot join. Her page closing ends the session
(the relay stops hearing from it). Every change is a POST checked against the form's CSRF token.
"""

from __future__ import annotations

import re
import time

import sqlalchemy as sa
from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.csrf import validate_csrf
from wtforms import RadioField, SelectChoice, StringField
from wtforms.validators import InputRequired, Length, Regexp, ValidationError

from kiosk.protocol.assist import MEDIATOR_TITLES, MESSAGE_MAX_CHARS, validate_event
from provisioning.fleet import assist_log
from provisioning.fleet.accounts.access import FLEET_ROLES, db, engine, requires
from provisioning.fleet.assist_api import end_session
from provisioning.fleet.assist_relay import relay
from provisioning.fleet.dashboard import fleet_queries as queries
from provisioning.fleet.store.assist_schema import MEDIATOR_NAME_MAX_CHARS
from provisioning.fleet.store.engine import write_transaction
from provisioning.fleet.store.schema import devices

blueprint = Blueprint("assist", __name__, url_prefix="/tableau")
FRAME_WAIT_S = 2.0
END_LABELS = {"refused": "refusée par la personne", "resident": "arrêtée par la personne",
              "mediator": "arrêtée par la médiatrice ou le médiateur", "mediator_left": "page de la médiation fermée",
              "session_end": "fin de la session au poste", "idle": "sans activité", "unreachable": "liaison perdue",
              "unanswered": "sans réponse au poste"}
VIEWER_CSP = ("default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; "
              "connect-src 'self'; form-action 'self'; frame-ancestors 'none'")


class AskForm(FlaskForm):
    name = StringField("Votre prénom, tel que la personne le lira", validators=[
        InputRequired(message="indiquez votre prénom."),
        Length(max=MEDIATOR_NAME_MAX_CHARS, message=f"{MEDIATOR_NAME_MAX_CHARS} caractères au plus."),
        Regexp(r"^[^\W\d_][\w' .-]*$", message="lettres, espaces, apostrophes et tirets seulement.")])
    title = RadioField("Vous êtes", choices=[SelectChoice(title, title) for title in MEDIATOR_TITLES], default=MEDIATOR_TITLES[0],
                       validators=[InputRequired(message="choisissez.")])


def _machine(asset_tag: str):
    row = queries.machine(db(), asset_tag, time.time())
    if row is None:
        abort(404)
    return row


def _own_session(session_id: int):
    row = assist_log.get(db(), session_id)
    if row is None:
        abort(404)
    if row.mediator_user_id != current_user.id:
        abort(403)  # another mediator's session: nobody joins an ongoing assistance
    return row


def _check_csrf() -> None:
    try:
        validate_csrf(request.headers.get("X-CSRFToken") or request.form.get("csrf_token"))
    except ValidationError:  # a missing, expired or wrong token
        abort(400)


@blueprint.app_context_processor
def _machine_page_helpers():
    """For the machine page's assistance panel (dashboard/assist/_machine.html)."""
    return {"assist_log_of": lambda device_id: assist_log.of_device(db(), device_id), "assist_form": AskForm,
            "assist_end_labels": END_LABELS}


@blueprint.post("/machines/<asset_tag>/assistance")
@requires(*FLEET_ROLES)
def ask(asset_tag: str):
    machine = _machine(asset_tag)
    form = AskForm()
    if not form.validate():
        flash("La demande n'a pas été envoyée : " + " ".join(
            f"{getattr(form, name).label.text} : {' '.join(errors)}" for name, errors in form.errors.items()), "error")
        return redirect(url_for("dashboard.machine", asset_tag=asset_tag))
    name = re.sub(r"\s+", " ", form.name.data.strip())
    try:
        with write_transaction(engine()) as conn:
            session_id = assist_log.create(conn, machine.id, current_user.id, name, form.title.data, time.time())
    except assist_log.AssistBusy:
        flash("Une assistance est déjà demandée ou en cours sur ce poste : une seule personne à la fois.", "error")
        return redirect(url_for("dashboard.machine", asset_tag=asset_tag))
    relay().new_request()
    return redirect(url_for("assist.viewer", session_id=session_id))


@blueprint.get("/assistance/<int:session_id>")
@requires(*FLEET_ROLES)
def viewer(session_id: int):
    row = _own_session(session_id)
    asset_tag = db().execute(sa.select(devices.c.asset_tag).where(devices.c.id == row.device_id)).scalar_one()
    response = Response(render_template("dashboard/assist/viewer.html", session=row, asset_tag=asset_tag, state=_state(row),
                                        end_labels=END_LABELS, message_max=MESSAGE_MAX_CHARS))
    response.headers["Content-Security-Policy"] = VIEWER_CSP
    return response


def _state(row) -> str:
    if row.ended_at is not None:
        return "ended:" + (row.end_reason or "")
    return "running" if row.started_at is not None else "pending"


@blueprint.get("/assistance/<int:session_id>/image")
@requires(*FLEET_ROLES)
def image(session_id: int):
    """The latest frame if newer than ``apres`` (waiting up to 2 s), else 204; the state in a header."""
    row = _own_session(session_id)
    try:
        after = int(request.args.get("apres", "0"))
    except ValueError:
        abort(400)
    if row.started_at is not None and row.ended_at is None:
        reason = "unreachable" if relay().live(session_id) is None else relay().overdue(session_id, _idle_s())
        if reason:
            end_session(session_id, reason)
        else:
            frame, frame_type, seq, running = relay().wait_frame(session_id, after, FRAME_WAIT_S)
            if frame:
                response = Response(frame, mimetype=frame_type)
                response.headers.update({"X-Frame-Seq": str(seq), "X-Assist-State": "running",
                                         "Cache-Control": "no-store"})
                return response
        db().rollback()
        row = assist_log.get(db(), session_id)
    elif row.ended_at is None:
        time.sleep(0.5)  # pending: the page asks again soon
    response = Response(status=204)
    response.headers.update({"X-Assist-State": _state(row), "Cache-Control": "no-store"})
    return response


def _idle_s() -> float:
    from provisioning.fleet.assist_api import idle_s
    return idle_s()


def _send(session_id: int, event: dict):
    _check_csrf()
    row = _own_session(session_id)
    errors = validate_event(event)
    if errors:
        return jsonify({"ok": False, "error": "invalid event", "errors": errors, "status": 422}), 422
    if row.ended_at is not None or row.started_at is None or not relay().add_event(session_id, event):
        return jsonify({"ok": False, "error": "the session is not running", "errors": [], "status": 409}), 409
    return jsonify({"ok": True})


@blueprint.post("/assistance/<int:session_id>/point")
@requires(*FLEET_ROLES)
def point(session_id: int):
    doc = request.get_json(silent=True) or {}
    return _send(session_id, {"kind": "point", "x": doc.get("x"), "y": doc.get("y")})


@blueprint.post("/assistance/<int:session_id>/message")
@requires(*FLEET_ROLES)
def message(session_id: int):
    doc = request.get_json(silent=True) or {}
    text = doc.get("text")
    return _send(session_id, {"kind": "message", "text": text.strip() if isinstance(text, str) else text})


@blueprint.post("/assistance/<int:session_id>/arreter")
@requires(*FLEET_ROLES)
def stop(session_id: int):
    _check_csrf()
    row = _own_session(session_id)
    if row.ended_at is None:
        end_session(session_id, "mediator")
    if request.headers.get("X-CSRFToken"):  # the page's script (or its beacon when closed)
        return Response(status=204)
    flash("L'assistance est terminée.")
    return redirect(url_for("assist.viewer", session_id=session_id))
