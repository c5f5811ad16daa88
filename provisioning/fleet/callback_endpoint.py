"""``POST /api/v1/callbacks``: a kiosk delivers a resident's call-back request (issue 13).

The kiosk authenticates with its device token, as for check-ins. The body is read with the same limits
(:mod:`provisioning.fleet.body`) and checked field by field at this boundary
(:func:`kiosk.protocol.callback.validate_callback`): anything else gets the API's one error shape, never a
500. A request id is stored once: sending it again answers 200 and stores nothing (exactly once).
"""

from __future__ import annotations

import time

import sqlalchemy as sa
from flask import Blueprint, current_app, jsonify, request

from kiosk.protocol import API_PREFIX
from kiosk.protocol.callback import latest_allowed, validate_callback
from provisioning.fleet.body import read_json
from provisioning.fleet.checkin_endpoint import bearer_token
from provisioning.fleet.errors import ApiError
from provisioning.fleet.store import ingest
from provisioning.fleet.store.engine import get_engine, write_transaction
from provisioning.fleet.store.help_schema import callback_requests
from provisioning.fleet.store.schema import devices

blueprint = Blueprint("callbacks_api", __name__, url_prefix=API_PREFIX)
MAX_CALLBACK_BODY_BYTES = 8 * 1024


def _device_of(engine: sa.Engine, token: str) -> int:
    connection = engine.raw_connection()
    try:
        return ingest.authenticate_on(connection, engine.dialect.name, token).device_id
    finally:
        connection.close()


@blueprint.post("/callbacks")
def receive():
    engine = get_engine()
    device_id = _device_of(engine, bearer_token(request.environ))
    settings = current_app.config["FLEET_SETTINGS"]
    doc = read_json(request.environ, min(settings.max_body_bytes, MAX_CALLBACK_BODY_BYTES))
    now = time.time()
    errors = validate_callback(doc, latest_allowed(now))
    if errors:
        raise ApiError(422, "the call-back request is invalid; nothing was stored", errors)
    stored = False
    try:
        with write_transaction(engine) as conn:
            known = conn.execute(sa.select(callback_requests.c.id).where(
                callback_requests.c.request_id == doc["request_id"])).first()
            if known is None:
                commune = conn.execute(sa.select(devices.c.commune_insee).where(devices.c.id == device_id)).scalar_one()
                conn.execute(callback_requests.insert().values(
                    request_id=doc["request_id"], device_id=device_id, commune_insee=commune, name=doc["name"],
                    phone=doc["phone"], subject=doc["subject"], slot=doc["slot"], made_at=float(doc["made_at"]),
                    received_at=now, status="new", updated_at=now))
                stored = True
    except sa.exc.IntegrityError:  # the same request delivered twice at once: the other one stored it
        stored = False
    response = jsonify({"ok": True, "request_id": doc["request_id"], "stored": stored})
    response.status_code = 201 if stored else 200
    return response
