"""Who may see what: roles, the commune scope of a ``commune`` account, and the database connection."""

from __future__ import annotations

import functools
import time

import sqlalchemy as sa
from flask import abort, current_app, g, redirect, request, session, url_for
from flask_login import current_user

IDLE_TIMEOUT_S = 30 * 60
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
    """Sessions end after 30 minutes without a request (and after 8 hours in any case)."""
    seen = session.get("seen")
    now = time.time()
    if seen is None or now - seen > IDLE_TIMEOUT_S:
        return False
    session["seen"] = now
    return True


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
