"""The kiosk-facing bundle endpoints (issue 12), with the check-in's token authentication:

* ``GET /api/v1/bundle``: the signed bundle meant for the kiosk's commune (gzip'd canonical JSON, the
  Ed25519 signature in ``X-Bundle-Signature``), its ETag the commune and version; ``If-None-Match``
  with the same ETag gets ``304 Not Modified`` and no body. 404 when the commune has none yet.
* ``POST /api/v1/bundle/status``: the kiosk's report — the version it staged or applied, the last
  version it refused and why — shown on the machine's page.
"""

from __future__ import annotations

import time

from flask import Blueprint, Response, current_app, jsonify, request

from kiosk.agent import bundles_format
from kiosk.protocol import API_PREFIX
from provisioning.fleet import management
from provisioning.fleet.body import read_json
from provisioning.fleet.bundle_signing import SigningKeyError, load_private_key
from provisioning.fleet.checkin_endpoint import bearer_token
from provisioning.fleet.errors import ApiError
from provisioning.fleet.store import ingest
from provisioning.fleet.store.engine import get_engine, read_transaction

blueprint = Blueprint("bundle_api", __name__, url_prefix=API_PREFIX)
MAX_STATUS_BYTES = 4096


def _device() -> ingest.DeviceAuth:
    return ingest.authenticate(get_engine(), bearer_token(request.environ))


def _signing_key():
    settings = current_app.config["FLEET_SETTINGS"]
    if not settings.bundle_signing_key:
        raise ApiError(503, "configuration bundles are not enabled on this server (bundle_signing_key)")
    key = current_app.extensions.get("fleet_bundle_key")
    if key is None:
        try:
            key = load_private_key(settings.bundle_signing_key)
        except SigningKeyError as error:
            current_app.logger.error("bundle signing key: %s", error)
            raise ApiError(503, "the server cannot sign bundles (signing key unreadable)") from None
        current_app.extensions["fleet_bundle_key"] = key
    return key


def etag_of(insee: str, version: int) -> str:
    return f"{insee}-{version}"


@blueprint.get("/bundle")
def bundle():
    auth = _device()
    key = _signing_key()
    engine = get_engine()
    with read_transaction(engine) as conn:
        _, insee = management.device_of(conn, auth.device_id)
        current = management.latest(conn, insee)
        if current is None:
            raise ApiError(404, "no configuration bundle is published for this kiosk's commune")
        version, content = current
        etag = etag_of(insee, version)
        if etag in request.if_none_match:
            response = Response(status=304)
            response.set_etag(etag)
            return response
        document = management.bundle_document(conn, content)
    payload = bundles_format.encode(document)
    response = Response(payload, status=200, mimetype="application/gzip")
    response.set_etag(etag)
    response.headers[bundles_format.SIGNATURE_HEADER] = bundles_format.signature_text(key.sign(payload))
    response.headers["X-Bundle-Version"] = str(version)
    response.headers["Cache-Control"] = "no-cache"
    return response


def _optional_version(doc: dict, name: str) -> int | None:
    value = doc.get(name)
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 2**31 - 1:
        raise ApiError(422, "the bundle status is invalid", [f"/{name}: a positive integer or null"])
    return value


@blueprint.post("/bundle/status")
def bundle_status():
    auth = _device()
    doc = read_json(request.environ, MAX_STATUS_BYTES)
    if not isinstance(doc, dict) or set(doc) - {"applied_version", "refused_version", "refusal"}:
        raise ApiError(422, "the bundle status is invalid",
                       ["/: an object with applied_version, refused_version and refusal only"])
    applied, refused = _optional_version(doc, "applied_version"), _optional_version(doc, "refused_version")
    refusal = doc.get("refusal")
    if refusal is not None and (not isinstance(refusal, str) or len(refusal) > 300):
        raise ApiError(422, "the bundle status is invalid", ["/refusal: a text of 300 characters at most"])
    refusal = "".join(char for char in refusal if char.isprintable()) if refusal else None
    management.record_status(get_engine(), auth.device_id, applied, refused, refusal, time.time())
    return jsonify({"ok": True})
