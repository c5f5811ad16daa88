"""Log in and out. Failures are throttled per (account, address), per address and, only by slowing it
down, per account (accounts/throttle.py); the client address is the real one behind the trusted proxies.
A login opens a new server-side session (accounts/sessions.py); logging out ends it on the server."""

from __future__ import annotations

import logging
import time
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from provisioning.fleet.accounts import sessions, store, throttle
from provisioning.fleet.accounts.access import engine
from provisioning.fleet.accounts.forms import ConfirmForm, LoginForm
from provisioning.fleet.store.engine import write_transaction

blueprint = Blueprint("accounts", __name__, template_folder="../dashboard/templates")
log = logging.getLogger(__name__)
_warned_about_proxy = False


def _client_address() -> str:
    """The real client (ProxyFix has applied FLEET_TRUSTED_PROXIES). Says once in the log when requests
    carry X-Forwarded-For while no proxy is trusted: behind nginx every client would share its address."""
    global _warned_about_proxy
    if (not _warned_about_proxy and "X-Forwarded-For" in request.headers
            and not current_app.config["FLEET_SETTINGS"].trusted_proxies):
        _warned_about_proxy = True
        log.warning("login requests carry X-Forwarded-For but FLEET_TRUSTED_PROXIES is 0: the header is "
                    "ignored; behind a reverse proxy set it to the number of proxies (nginx: 1)")
    return request.remote_addr or "?"


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("dashboard.overview")


@blueprint.route("/connexion", methods=["GET", "POST"])
def login():
    form = LoginForm()
    status, message = 200, None
    if form.validate_on_submit():
        username = form.username.data.strip().lower()
        address = _client_address()
        now = time.time()
        with engine().connect() as conn:
            verdict = throttle.verdict(conn, username, address, now)
            allowed = verdict is throttle.Verdict.ALLOWED
            user, new_hash = store.authenticate(conn, username, form.password.data) if allowed else (None, None)
        if verdict is throttle.Verdict.LOCKED:
            status = 429
            message = "Trop d'essais depuis cette adresse. Attendez 15 minutes avant de réessayer."
        elif verdict is throttle.Verdict.SLOWED:
            status = 429
            message = ("Ce compte reçoit beaucoup d'essais erronés : attendez quelques secondes, "
                       "puis réessayez.")
        elif user is None:
            with write_transaction(engine()) as conn:
                throttle.record_failure(conn, username, address, now)
            status = 401
            message = "Identifiant ou mot de passe incorrect."
        if status == 200:
            previous = session.get(sessions.COOKIE_KEY)
            with write_transaction(engine()) as conn:
                if new_hash:
                    store.store_rehash(conn, user.id, new_hash)
                sessions.end_session(conn, previous, now)
                session_id = sessions.open_session(conn, user.id, address, now)
            session.clear()  # a new session id at every login (no fixation)
            session.permanent = True
            session[sessions.COOKIE_KEY] = session_id
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
    elif request.method == "POST":
        status = 400
        message = "Le formulaire a expiré ou est incomplet : rechargez la page et réessayez."
    return render_template("dashboard/login.html", form=form, message=message), status


@blueprint.post("/deconnexion")
def logout():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    with write_transaction(engine()) as conn:
        sessions.end_session(conn, session.get(sessions.COOKIE_KEY), time.time())
    if current_user.is_authenticated:
        logout_user()
    session.clear()
    return redirect(url_for("accounts.login"))
