"""``POST /api/v1/checkin`` served straight from the WSGI environ, ahead of Flask.

Every kiosk calls this endpoint every few minutes, so its cost sets how many kiosks one server carries.
Flask's request and response machinery would cost about as much as the rest of the check-in, so
:class:`CheckinEndpoint` wraps ``app.wsgi_app``: it answers this one method and path itself and hands
everything else (including other methods on this path: 405) to Flask. The answer and the error shape are
the API's own (:mod:`provisioning.fleet.errors`); the Flask view in :mod:`provisioning.fleet.api` runs the
same :func:`handle_checkin` when the app is served without this wrapper.
"""

from __future__ import annotations

import json
import logging
import time

from sqlalchemy import Engine
from werkzeug.http import HTTP_STATUS_CODES

from kiosk.protocol import CHECKIN_PATH, FUTURE_TOLERANCE_S
from kiosk.protocol.validate import validate_checkin
from provisioning.fleet import assist_log, management, releases, remote_actions
from provisioning.fleet.store import ingest, readmodel
from provisioning.fleet.store.engine import HeldConnections
from provisioning.fleet.body import read_json
from provisioning.fleet.errors import ApiError, error_document
from provisioning.fleet.secrets_hashing import digest
from provisioning.fleet.settings import Settings

log = logging.getLogger(__name__)
_encode = json.JSONEncoder(separators=(",", ":")).encode


def bearer_token(environ: dict) -> str:
    header = environ.get("HTTP_AUTHORIZATION", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise ApiError(401, "missing device token (Authorization: Bearer ...)")
    if scheme.lower() != "bearer" or not token.strip() or len(token) > 200:
        raise ApiError(401, "malformed Authorization header (expected: Bearer <device token>)")
    return token.strip()


def handle_checkin(environ: dict, settings: Settings, engine: Engine,
                   known_tokens: ingest.KnownTokens | None = None, held: HeldConnections | None = None) -> dict:
    """The answer to a check-in, or an :class:`ApiError` (nothing stored)."""
    token = bearer_token(environ)
    token_digest = digest(token)
    auth = known_tokens.get(token_digest) if known_tokens is not None else None
    kept = held.get() if held is not None else None
    connection = kept or engine.raw_connection()
    try:
        if auth is None:
            auth = ingest.authenticate_on(connection, engine.dialect.name, token, token_digest)
            if known_tokens is not None:
                known_tokens.remember(token_digest, auth)
        doc = read_json(environ, settings.max_body_bytes)
        now = time.time()
        errors = validate_checkin(doc, latest=now + FUTURE_TOLERANCE_S)
        if errors:
            raise ApiError(422, "the check-in is invalid; nothing was stored", errors)
        try:
            answer = ingest.ingest_on(engine, connection, auth, doc["records"], now,
                                      raw_health_cutoff=now - settings.raw_health_retention_days * 86400)
        except ApiError as refused:
            if refused.status == 401 and known_tokens is not None:
                known_tokens.forget(token_digest)  # revoked: the next attempt fails before the write lock
            raise
        if settings.bundle_signing_key:  # the configuration bundle meant for this kiosk (issue 12)
            bundle_version = management.latest_for_device_on(connection, engine.dialect.name, auth.device_id)
            if bundle_version is not None:
                answer = {**answer, "bundle_version": bundle_version}
        if settings.releases_dir:  # the kiosk software its ring should run (issue 12)
            answer = releases.with_release_on(connection, engine.dialect.name, auth.device_id, answer)
        answer = remote_actions.add_to_answer_on(connection, engine.dialect.name, auth.device_id, answer, now,
                                                id(engine))  # issue 12
        answer = assist_log.with_hint_on(answer, connection, engine, auth.device_id)  # issue 13
    except ApiError:
        raise  # refused before or inside a transaction that was rolled back: the connection is clean
    except BaseException:
        if kept is not None:
            held.discard()
        raise
    finally:
        if kept is None:
            connection.close()
    return {"ok": True, **answer, "interval_s": settings.checkin_interval_s,
            "config_version": settings.config_version, "server_time": now}


class CheckinEndpoint:
    """WSGI middleware answering ``POST /api/v1/checkin``; everything else goes to ``wsgi_app``."""

    def __init__(self, wsgi_app, settings: Settings, engine: Engine) -> None:
        self.wsgi_app = wsgi_app
        self.settings = settings
        self.engine = engine
        self.known_tokens = ingest.KnownTokens()
        self.held_connections = HeldConnections(engine)
        self.usage_folding = readmodel.FoldSchedule()

    def __call__(self, environ: dict, start_response):
        if environ.get("PATH_INFO") != CHECKIN_PATH or environ.get("REQUEST_METHOD") != "POST":
            return self.wsgi_app(environ, start_response)
        status = 200
        started = self.usage_folding.clock()
        try:
            document = handle_checkin(environ, self.settings, self.engine, self.known_tokens,
                                      self.held_connections)
            if self.usage_folding.due(started):
                self._fold_usage()
        except ApiError as error:
            status, document = error.status, error_document(error.status, error.error, error.errors)
        except Exception:
            log.exception("unexpected error on POST %s", CHECKIN_PATH)
            status = 500
            document = error_document(500, "internal server error; the request was not stored")
        body = _encode(document).encode() + b"\n"
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        if status == 401:
            headers.append(("WWW-Authenticate", 'Bearer realm="fleet"'))
        start_response(f"{status} {HTTP_STATUS_CODES[status]}", headers)
        return [body]

    def _fold_usage(self) -> None:
        """The dashboard's usage counters catch up with the inbox (their own transactions, after the
        check-in's). A failure here loses nothing and does not fail the stored check-in: the inbox keeps
        its rows for the next fold."""
        try:
            readmodel.fold_usage(self.engine)
        except Exception:  # noqa: BLE001 - logged; retried at the next fold
            log.exception("folding the usage inbox failed; it will be retried")
