"""/etat: the kiosk's state for the page script and the window (JSON)."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, jsonify

from kiosk.text.french import date_and_time
from kiosk.shell.state import shell_state

blueprint = Blueprint("status", __name__)


@blueprint.get("/etat")
def show():
    result = shell_state().probe.status()
    date_text, time_text = date_and_time(dt.datetime.now())
    response = jsonify(
        online=result.online,
        connection=result.state,  # "online", "portal" (a portal or router asks for something) or "offline"
        checked_at=dt.datetime.fromtimestamp(result.checked_wall, dt.timezone.utc).isoformat(timespec="seconds"),
        date=date_text, time=time_text)
    response.headers["Cache-Control"] = "no-store"
    return response
