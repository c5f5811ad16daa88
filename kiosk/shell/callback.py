"""« Être rappelé(e) » (issue 13): from the help page, a resident asks the mediator to call back.

The form is checked kindly (:mod:`kiosk.shell.callback_form`); on a problem the page comes back with
everything typed kept and each problem named. A valid request is handed to the agent
(:class:`kiosk.callbacks.CallbackDrop`), which delivers it once the link is up. Nothing of it goes into
the session cookie, a URL or a log: after the answer page the shell holds nothing of it.
"""

from __future__ import annotations

import logging

from flask import Blueprint, abort, redirect, render_template, request, url_for

from kiosk.callbacks import CallbackDrop
from kiosk.protocol.callback import SUBJECTS
from kiosk.shell.callback_form import FIELD_LABELS, CallbackForm, slots
from kiosk.shell.state import shell_state

log = logging.getLogger(__name__)
blueprint = Blueprint("callback", __name__)


def _same_origin() -> bool:
    origin = request.headers.get("Origin")
    return origin is None or origin == request.host_url.rstrip("/")


def _page(form: CallbackForm, status: int = 200, not_sent: bool = False):
    config = shell_state().config
    return render_template("callback_form.html", form=form, subjects=SUBJECTS, slots=slots(config.help.mediator),
                           labels=FIELD_LABELS, mediator=config.help.mediator, not_sent=not_sent), status


@blueprint.get("/aide/rappel")
def show():
    return _page(CallbackForm())


@blueprint.post("/aide/rappel")
def send():
    if not _same_origin():
        abort(403)
    form = CallbackForm.from_form(request.form)
    if not form.check(slots(shell_state().config.help.mediator)):
        return _page(form, 400)
    events = shell_state().events
    try:
        if events is None:
            raise OSError("no folder shared with the agent")
        CallbackDrop(events.directory).put(form.request())
    except OSError as error:
        log.error("a call-back request could not be handed to the agent: %s", type(error).__name__)
        return _page(form, 503, not_sent=True)
    return redirect(url_for("callback.sent"), code=303)


@blueprint.get("/aide/rappel/envoye")
def sent():
    return render_template("callback_sent.html", mediator=shell_state().config.help.mediator)
