"""Log in and out. Failures are counted per account and per address; past the limit, even the right
password is refused for 15 minutes (answer 429)."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from provisioning.fleet.accounts import store
from provisioning.fleet.accounts.access import engine
from provisioning.fleet.accounts.forms import ConfirmForm, LoginForm
from provisioning.fleet.store.engine import write_transaction

blueprint = Blueprint("accounts", __name__, template_folder="../dashboard/templates")


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
        address = request.remote_addr or "?"
        with engine().connect() as conn:
            limited = store.is_rate_limited(conn, username, address)
            user, new_hash = (None, None) if limited else store.authenticate(conn, username, form.password.data)
        if limited:
            status = 429
            message = "Trop d'essais. Attendez 15 minutes avant de réessayer."
        elif user is None:
            with write_transaction(engine()) as conn:
                store.record_failure(conn, username, address)
            status = 401
            message = "Identifiant ou mot de passe incorrect."
        elif new_hash:
            with write_transaction(engine()) as conn:
                store.store_rehash(conn, user.id, new_hash)
        if status == 200:
            session.clear()
            session.permanent = True
            login_user(user)
            session["seen"] = time.time()
            return redirect(_safe_next(request.args.get("next")))
    elif request.method == "POST":
        status = 400
        message = "Le formulaire a expiré ou est incomplet : rechargez la page et réessayez."
    return render_template("dashboard/login.html", form=form, message=message), status


@blueprint.post("/deconnexion")
def logout():
    if not ConfirmForm().validate_on_submit():
        abort(400)
    if current_user.is_authenticated:
        logout_user()
    session.clear()
    return redirect(url_for("accounts.login"))
