"""The API's one error shape: ``{"ok": false, "error": "...", "errors": [...], "status": N}``.

Every error the API can produce goes through :func:`error_response`, including Flask's own 404/405/413
and any unexpected exception (a 500 with no traceback in the body).
"""

from __future__ import annotations

import logging

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error answered to an API client: a status, one sentence, and the details (JSON pointers...)."""

    def __init__(self, status: int, error: str, errors: list[str] | None = None) -> None:
        super().__init__(error)
        self.status = status
        self.error = error
        self.errors = list(errors or [])


def error_document(status: int, error: str, errors: list[str] | None = None) -> dict:
    return {"ok": False, "error": error, "errors": list(errors or []), "status": status}


def error_response(status: int, error: str, errors: list[str] | None = None):
    response = jsonify(error_document(status, error, errors))
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="fleet"'
    return response


def init_app(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(error: ApiError):
        return error_response(error.status, error.error, error.errors)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        if not request.path.startswith("/api/"):
            return error
        return error_response(error.code or 500, error.description or error.name)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.exception("unexpected error on %s %s", request.method, request.path)
        if not request.path.startswith("/api/"):
            return "Erreur interne du serveur. L'équipe a été prévenue.", 500
        return error_response(500, "internal server error; the request was not stored")
