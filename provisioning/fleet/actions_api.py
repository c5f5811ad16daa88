"""``POST /api/v1/actions/<id>/result``: a kiosk acknowledges one of its actions and reports its result
(issue 12), with the check-in's token authentication.

Body: ``{"state": "accepted" | "done" | "failed", "detail": "…" (300 characters at most),
"diagnostic": "…"}`` (the filtered journal, for a diagnostic action only, 256 KiB at most). Every field
is checked at this boundary; anything else gets the API's one error shape (4xx), never a 500. An action
of another kiosk is answered 404, as an unknown one. Reporting twice changes nothing.
"""

from __future__ import annotations

import time

from flask import Blueprint, jsonify, request

from kiosk.protocol import API_PREFIX
from provisioning.fleet import remote_actions
from provisioning.fleet.body import read_json
from provisioning.fleet.checkin_endpoint import bearer_token
from provisioning.fleet.errors import ApiError
from provisioning.fleet.store import ingest
from provisioning.fleet.store.actions_schema import DETAIL_MAX_CHARS, DIAGNOSTIC_MAX_CHARS
from provisioning.fleet.store.engine import get_engine

blueprint = Blueprint("actions_api", __name__, url_prefix=API_PREFIX)
MAX_RESULT_BODY_BYTES = 512 * 1024  # on the wire (the diagnostic is sent gzip'd)
FIELDS = {"state", "detail", "diagnostic"}


def _text(doc: dict, name: str, limit: int, errors: list[str]) -> str | None:
    value = doc.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > limit:
        errors.append(f"/{name}: a text of {limit} characters at most")
        return None
    return "".join(char for char in value if char.isprintable() or char in "\n\t")


def check_result(doc) -> tuple[str, str | None, str | None]:
    if not isinstance(doc, dict):
        raise ApiError(422, "the action result is invalid", ["/: an object with state, detail and diagnostic"])
    errors = [f"/{name}: unknown field" for name in sorted(set(doc) - FIELDS, key=str)[:5]]
    state = doc.get("state")
    if state not in remote_actions.RESULT_STATES:
        errors.append("/state: one of " + ", ".join(remote_actions.RESULT_STATES))
    detail = _text(doc, "detail", DETAIL_MAX_CHARS, errors)
    diagnostic = _text(doc, "diagnostic", DIAGNOSTIC_MAX_CHARS, errors)
    if diagnostic is not None and state != "done":
        errors.append("/diagnostic: only with state done")
    if errors:
        raise ApiError(422, "the action result is invalid; nothing was stored", errors)
    return state, detail, diagnostic


@blueprint.post("/actions/<action_id>/result")
def result(action_id: str):
    engine = get_engine()
    auth = ingest.authenticate(engine, bearer_token(request.environ))
    if not action_id.isdigit() or len(action_id) > 10 or not 1 <= int(action_id) <= 2**31 - 1:
        raise ApiError(404, "no such action for this kiosk", [f"/actions/{action_id[:20]}: unknown"])
    state, detail, diagnostic = check_result(read_json(request.environ, MAX_RESULT_BODY_BYTES))
    try:
        now_state = remote_actions.record_result(engine, auth.device_id, int(action_id), state, detail, diagnostic,
                                                 time.time())
    except LookupError:
        raise ApiError(404, "no such action for this kiosk", [f"/actions/{action_id}: unknown"]) from None
    return jsonify({"ok": True, "id": int(action_id), "state": now_state})
