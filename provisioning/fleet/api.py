"""The kiosk-facing API, version 1 (documented in docs/api/openapi.yaml)."""

from __future__ import annotations

import time

from flask import Blueprint, current_app, jsonify, request

from kiosk.protocol import API_PREFIX, FUTURE_TOLERANCE_S
from kiosk.protocol.validate import validate_checkin, validate_enrol
from provisioning.fleet import enrolment, ingest
from provisioning.fleet.body import read_json
from provisioning.fleet.db import get_engine
from provisioning.fleet.errors import ApiError

blueprint = Blueprint("api", __name__, url_prefix=API_PREFIX)


def _settings():
    return current_app.config["FLEET_SETTINGS"]


def _bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise ApiError(401, "missing device token (Authorization: Bearer ...)")
    if scheme.lower() != "bearer" or not token.strip() or len(token) > 200:
        raise ApiError(401, "malformed Authorization header (expected: Bearer <device token>)")
    return token.strip()


@blueprint.get("/ping")
def ping():
    """A trivial answer: the ceiling the benchmark compares check-ins with."""
    return jsonify({"ok": True})


@blueprint.post("/enrol")
def enrol():
    settings = _settings()
    doc = read_json(request, settings.max_body_bytes)
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
    settings = _settings()
    token = _bearer_token()
    engine = get_engine()
    auth = ingest.authenticate(engine, token)
    doc = read_json(request, settings.max_body_bytes)
    now = time.time()
    errors = validate_checkin(doc, latest=now + FUTURE_TOLERANCE_S)
    if errors:
        raise ApiError(422, "the check-in is invalid; nothing was stored", errors)
    answer = ingest.ingest(engine, auth, doc["records"], now,
                           raw_health_cutoff=now - settings.raw_health_retention_days * 86400)
    return jsonify({"ok": True, **answer, "interval_s": settings.checkin_interval_s,
                    "config_version": settings.config_version, "server_time": now})
