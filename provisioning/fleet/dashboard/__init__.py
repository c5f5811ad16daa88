"""The staff dashboard (French pages): fleet overview, machine pages, usage, yearly report.

``init_app(app)`` wires what every staff page needs into the fleet server's app factory: accounts
(Flask-Login), CSRF-checked forms (Flask-WTF), expiring sessions, security headers and French error
pages. The app factory (:func:`provisioning.fleet.create_app`) registers the blueprints, the exports'
and ``/metrics`` too.
"""

from __future__ import annotations

import datetime as dt

import time

from flask import Flask, render_template, request, session
from flask_login import LoginManager
from flask_wtf.csrf import generate_csrf

from provisioning.fleet.accounts.access import EXTENSION, close_db, engine
from provisioning.fleet.dashboard import commune_picker, french

SESSION_LIFETIME = dt.timedelta(hours=8)
ERROR_MESSAGES = {
    400: "La demande est incomplète ou le formulaire a expiré. Rechargez la page et réessayez.",
    403: "Votre compte n'a pas accès à cette page.",
    404: "Cette page n'existe pas, ou votre compte n'y a pas accès.",
    405: "Cette action n'est pas possible ici.",
    429: "Trop d'essais. Attendez quelques minutes.",
    500: "Le serveur a rencontré un problème. Réessayez dans un moment.",
}


def _is_dashboard_request() -> bool:
    return not request.path.startswith("/api/")


def init_app(app: Flask) -> None:
    from provisioning.fleet.store import engine as store_db
    from provisioning.fleet.accounts import sessions, store

    app.extensions[EXTENSION] = {"engine": app.extensions.get("fleet_engine") or store_db.get_engine()}
    app.config["PERMANENT_SESSION_LIFETIME"] = SESSION_LIFETIME
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      WTF_CSRF_TIME_LIMIT=int(SESSION_LIFETIME.total_seconds()))
    # Session cookies only over HTTPS, except in tests and when explicitly turned off for a local demo
    # on http://127.0.0.1 (the session_cookie_secure setting).
    settings = app.config["FLEET_SETTINGS"]
    app.config["SESSION_COOKIE_SECURE"] = settings.session_cookie_secure and not settings.testing

    login_manager = LoginManager()
    login_manager.login_view = "accounts.login"
    login_manager.login_message = None

    @login_manager.user_loader
    def load_user(user_id: str):
        """The account of the request's server-side session (accounts/sessions.py), or None."""
        if not user_id.isdigit():
            return None
        now = time.time()
        session_id = session.get(sessions.COOKIE_KEY)
        with engine().connect() as conn:
            live = sessions.session_user(conn, session_id, now)
            if live is None or live.user_id != int(user_id):
                return None
            user = store.load_user(conn, int(user_id))
        if user is not None and now - live.last_seen_at >= sessions.TOUCH_EVERY_S:
            with store_db.write_transaction(engine()) as conn:
                sessions.touch(conn, session_id, now)
        return user

    login_manager.init_app(app)
    app.teardown_appcontext(close_db)

    @app.after_request
    def _headers(response):
        if _is_dashboard_request():
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
            response.headers.setdefault("X-Frame-Options", "DENY")
            response.headers.setdefault("Referrer-Policy", "same-origin")
            response.headers.setdefault(
                "Content-Security-Policy",
                "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'none'; "
                "form-action 'self'; frame-ancestors 'none'")
            if response.mimetype == "text/html":
                response.headers.setdefault("Cache-Control", "no-store")
        return response

    def _error_page(error):
        code = getattr(error, "code", 500) or 500
        if not _is_dashboard_request():  # the API keeps its one JSON error shape
            from provisioning.fleet.errors import error_response
            return error_response(code, error.description or error.name)
        return render_template("dashboard/error.html", code=code,
                               message=ERROR_MESSAGES.get(code, ERROR_MESSAGES[500])), code

    for code in (400, 403, 404, 405, 429):
        app.register_error_handler(code, _error_page)
    french.init_app(app)  # the French figures' filters (dashboard/french.py)
    commune_picker.init_app(app)  # commune_options(): the pages' commune picker
    app.jinja_env.globals["csrf_token"] = generate_csrf  # for the plain log-out form of every page

