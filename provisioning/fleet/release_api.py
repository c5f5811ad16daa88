"""The kiosk-facing release endpoints (issue 12), with the check-in's device-token authentication:

* ``GET /api/v1/releases/<version>/manifest``: the release's canonical manifest, the fleet key's
  signature in ``X-Release-Signature``; ETag and ``If-None-Match`` (304).
* ``GET /api/v1/releases/<version>/files/<name>``: one wheel named in the manifest; conditional and
  ranged (``Range: bytes=N-``), so a download cut by a 4G link resumes where it stopped.
* ``POST /api/v1/releases/status``: the kiosk's report — ``{"state": "downloaded" | "installed" |
  "switched" | "rolled_back" | "failed", "version": V, "running_version": V?, "reason": "…"?}``.

Every input is hostile: versions and file names match strict patterns before touching the disk, bodies
are bounded, and anything wrong is a 4xx in the API's one error shape.
"""

from __future__ import annotations

import time
from pathlib import Path

from flask import Blueprint, Response, current_app, jsonify, request, send_file

from kiosk.updates import manifest as release_manifest
from provisioning.fleet import releases
from provisioning.fleet.body import read_json
from provisioning.fleet.checkin_endpoint import bearer_token
from provisioning.fleet.errors import ApiError
from provisioning.fleet.store import ingest
from provisioning.fleet.store.engine import get_engine
from provisioning.fleet.store.releases_schema import REASON_MAX_CHARS, STATES

blueprint = Blueprint("release_api", __name__, url_prefix=release_manifest.RELEASES_PATH)
MAX_STATUS_BYTES = 2048


def _device() -> ingest.DeviceAuth:
    return ingest.authenticate(get_engine(), bearer_token(request.environ))


def _release(version: str) -> Path:
    settings = current_app.config["FLEET_SETTINGS"]
    if not settings.releases_dir:
        raise ApiError(503, "kiosk software releases are not enabled on this server (releases_dir)")
    found = releases.release_dir(Path(settings.releases_dir), version)
    if found is None:
        raise ApiError(404, "no such release")
    return found


@blueprint.get("/<version>/manifest")
def manifest(version: str):
    _device()
    directory = _release(version)
    payload = (directory / "manifest.json").read_bytes()
    etag = f"manifest-{version}"
    response = Response(status=304) if etag in request.if_none_match else Response(payload, mimetype="application/json")
    response.set_etag(etag)
    response.headers[release_manifest.SIGNATURE_HEADER] = (directory / "manifest.sig").read_text().strip()
    response.headers["Cache-Control"] = "no-cache"
    return response


@blueprint.get("/<version>/files/<name>")
def release_file(version: str, name: str):
    _device()
    if not release_manifest.FILE_NAME.match(name):
        raise ApiError(404, "no such file in this release")
    path = _release(version) / "files" / name
    if not path.is_file():
        raise ApiError(404, "no such file in this release")
    # Published files never change: werkzeug answers If-None-Match/If-Range and Range (206, 416) itself.
    return send_file(path, mimetype="application/octet-stream", conditional=True, etag=True, max_age=0)


def _text(doc: dict, name: str, limit: int, required: bool) -> str | None:
    value = doc.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or len(value) > limit:
        raise ApiError(422, "the release status is invalid", [f"/{name}: a text of 1 to {limit} characters"])
    return value


@blueprint.post("/status")
def release_status():
    auth = _device()
    doc = read_json(request.environ, MAX_STATUS_BYTES)
    if not isinstance(doc, dict) or set(doc) - {"state", "version", "running_version", "reason"}:
        raise ApiError(422, "the release status is invalid",
                       ["/: an object with state, version, running_version and reason only"])
    state = doc.get("state")
    if state not in STATES:
        raise ApiError(422, "the release status is invalid", [f"/state: one of {', '.join(STATES)}"])
    errors = [f"/{name}: a release version (e.g. 1.4.0)" for name in ("version", "running_version")
              if (doc.get(name) is not None or name == "version") and not release_manifest.valid_version(doc.get(name))]
    if errors:
        raise ApiError(422, "the release status is invalid", errors)
    reason = _text(doc, "reason", REASON_MAX_CHARS, required=False)
    reason = "".join(char for char in reason if char.isprintable()) if reason else None
    releases.record_status(get_engine(), auth.device_id, state, doc["version"], doc.get("running_version"),
                           reason, time.time())
    return jsonify({"ok": True})
