"""Who may see what: roles, the commune scope of a ``commune`` account, and the database connection."""

from __future__ import annotations

import functools

import sqlalchemy as sa
from flask import abort, current_app, g, redirect, request, session, url_for
from flask_login import current_user

EXTENSION = "fleet_dashboard"


def engine() -> sa.Engine:
    return current_app.extensions[EXTENSION]["engine"]


def db() -> sa.Connection:
    """The request's read connection (closed at the end of the request)."""
    if "dashboard_db" not in g:
        g.dashboard_db = engine().connect()
    return g.dashboard_db


def close_db(_error=None) -> None:
    conn = g.pop("dashboard_db", None)
    if conn is not None:
        conn.close()


def session_is_fresh() -> bool:
    """Whether the request carries a live server-side session. The user loader (dashboard/__init__.py)
    only returns an account for a session row that is not ended, younger than 8 hours and used within
    the last 30 minutes (accounts/sessions.py), so this is ``current_user.is_authenticated``."""
    return bool(current_user.is_authenticated)


def requires(*roles: str):
    """A page for logged-in users with one of ``roles``; others go to the login page or get a 403."""
    def decorate(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated or not session_is_fresh():
                session.clear()
                return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorate


ALL_ROLES = ("admin", "staff", "commune")
FLEET_ROLES = ("admin", "staff")


def commune_scope() -> str | None:
    """None for staff (every commune), the account's commune for a ``commune`` account."""
    return current_user.commune_insee if current_user.role == "commune" else None


def check_commune(insee: str | None) -> None:
    """A commune account asking about another commune gets a 404: it must not even learn it exists."""
    if not current_user.sees_commune(insee):
        abort(404)
