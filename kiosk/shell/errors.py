"""Calm French error pages: no status jargon, no traceback, always a way home."""

from __future__ import annotations

import logging

from flask import Flask, render_template
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)

MESSAGES = {
    403: ("Cette action n'est pas possible ici", "Revenez à l'accueil pour continuer."),
    404: ("Cette page n'existe pas", "L'adresse demandée ne correspond à aucune page de ce point numérique."),
    405: ("Cette action n'est pas possible ici", "Revenez à l'accueil pour continuer."),
    413: ("Cette demande est trop grande", "Revenez à l'accueil pour continuer."),
}
DEFAULT = ("Un problème est survenu", "Ce n'est pas de votre faute. Revenez à l'accueil et réessayez.")


FALLBACK_PAGE = (
    '<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>Un problème est survenu</title></head>'
    '<body><main><h1>Un problème est survenu</h1><p>Ce n\'est pas de votre faute.</p>'
    '<p><a href="/">Revenir à l\'accueil</a></p></main></body></html>')


def render_error(code: int):
    title, text = MESSAGES.get(code, DEFAULT)
    try:
        return render_template("error.html", title=title, text=text), code
    except Exception:  # the page itself is broken: still answer calmly, in French
        log.exception("the error page could not be rendered")
        return FALLBACK_PAGE, code


def handle_http_error(error: HTTPException):
    code = error.code or 500
    return render_error(code if code >= 400 else 500)


def handle_unexpected(error: Exception):
    log.exception("unexpected error in the shell", exc_info=error)
    return render_error(500)


def init_app(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(InternalServerError, handle_http_error)
    app.register_error_handler(Exception, handle_unexpected)
