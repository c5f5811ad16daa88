"""The kiosk-facing API, version 1 (documented in docs/api/openapi.yaml)."""

from __future__ import annotations

import time

from flask import Blueprint, current_app, jsonify, request

from kiosk.protocol import API_PREFIX
from kiosk.protocol.validate import validate_enrol
from provisioning.fleet import enrolment
from provisioning.fleet.body import read_json
from provisioning.fleet.checkin_endpoint import handle_checkin
from provisioning.fleet.store.engine import get_engine
from provisioning.fleet.errors import ApiError

blueprint = Blueprint("api", __name__, url_prefix=API_PREFIX)


def _settings():
    return current_app.config["FLEET_SETTINGS"]


@blueprint.get("/ping")
def ping():
    """A trivial answer: the ceiling the benchmark compares check-ins with."""
    return jsonify({"ok": True})


@blueprint.post("/enrol")
def enrol():
    settings = _settings()
    doc = read_json(request.environ, settings.max_body_bytes)
    errors = validate_enrol(doc)
    if errors:
        raise ApiError(422, "the enrolment request is invalid", errors)
    result = enrolment.enrol(get_engine(), doc["code"], doc["asset_tag"], doc["commune_insee"], time.time())
    response = jsonify({"ok": True, **result, "interval_s": settings.checkin_interval_s,
                        "config_version": settings.config_version})
    response.status_code = 201
    return response


@blueprint.post("/checkin")
def checkin():
    """Served by :class:`provisioning.fleet.checkin_endpoint.CheckinEndpoint` ahead of Flask; this view runs
    the same code when the app is served without that wrapper (and gives other methods their 405)."""
    return jsonify(handle_checkin(request.environ, _settings(), get_engine()))
