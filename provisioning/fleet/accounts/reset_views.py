"""The accounts page (admin: send a password-reset link), the public « mot de passe oublié » page, and
the page a link opens to choose a new password."""

from __future__ import annotations

import time

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp

from provisioning.fleet.accounts import reset
from provisioning.fleet.accounts.access import db, engine, requires
from provisioning.fleet.accounts.passwords import password_problem
from provisioning.fleet.accounts.store import list_users
from provisioning.fleet.store.engine import write_transaction
from provisioning.fleet.store.staff_schema import users

blueprint = Blueprint("password_reset", __name__)
INVALID_LINK = ("Ce lien n'est pas valable : il a peut-être déjà servi ou expiré (24 heures). "
                "Demandez-en un nouveau à un administrateur de l'association.")


class SendLinkForm(FlaskForm):
    email = EmailField("Adresse électronique de la personne", validators=[
        DataRequired("Indiquez l'adresse où envoyer le lien."), Length(max=254),
        Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="par exemple prenom@association.fr.")])


class NewPasswordForm(FlaskForm):
    password = PasswordField("Nouveau mot de passe (12 caractères au moins)", validators=[
        DataRequired("Choisissez un mot de passe."), Length(max=200)])
    again = PasswordField("Le même, une seconde fois", validators=[
        DataRequired("Recopiez le mot de passe."), EqualTo("password", "Les deux mots de passe diffèrent.")])


@blueprint.get("/tableau/comptes")
@requires("admin")
def accounts():
    return render_template("dashboard/accounts.html", users=list_users(db()), form=SendLinkForm())


@blueprint.post("/tableau/comptes/<int:user_id>/lien")
@requires("admin")
def send_link(user_id: int):
    account = db().execute(sa.select(users).where(users.c.id == user_id)).first()
    if account is None or account.disabled:
        abort(404)
    form = SendLinkForm()
    if not form.validate_on_submit():
        flash("Lien non envoyé : " + " ".join(e for errors in form.errors.values() for e in errors), "error")
        return redirect(url_for("password_reset.accounts"))
    with write_transaction(engine()) as conn:
        token = reset.create_link_token(conn, user_id, time.time())
    settings = current_app.config["FLEET_SETTINGS"]
    base = settings.public_url.rstrip("/") or request.host_url.rstrip("/")
    link = base + url_for("password_reset.choose", token=token)
    from provisioning.fleet.dashboard.alerts import Mail, send
    body = (f"Bonjour,\n\nPour choisir un nouveau mot de passe du suivi du parc (compte « {account.username} »), "
            f"ouvrez ce lien dans les 24 heures. Il ne sert qu'une fois :\n\n{link}\n\n"
            "Si vous n'avez rien demandé, ignorez ce message.")
    try:
        sent = send([Mail(form.email.data.strip(), "Votre lien pour choisir un mot de passe", body)], settings)
    except OSError:
        sent = 0
    if sent:
        flash(f"Lien envoyé à {form.email.data.strip()} pour le compte « {account.username} ».")
    else:  # no mail server: the admin passes the link on another way (phone, in person)
        flash(f"Aucun courriel n'a pu partir (serveur de courriel non réglé ou indisponible). Transmettez ce lien "
              f"à la personne, il vaut 24 heures et une seule fois : {link}")
    return redirect(url_for("password_reset.accounts"))


@blueprint.get("/mot-de-passe-oublie")
def forgotten():
    return render_template("dashboard/forgotten.html")


@blueprint.route("/mot-de-passe/<token>", methods=["GET", "POST"])
def choose(token: str):
    if reset.valid_user(db(), token, time.time()) is None:
        return render_template("dashboard/error.html", code=404, message=INVALID_LINK), 404
    form = NewPasswordForm()
    problem = None
    if form.validate_on_submit():
        problem = password_problem(form.password.data)
        if problem is None:
            with write_transaction(engine()) as conn:
                done = reset.use_token(conn, token, form.password.data, time.time())
            if not done:
                return render_template("dashboard/error.html", code=404, message=INVALID_LINK), 404
            flash("Mot de passe enregistré. Connectez-vous avec ce nouveau mot de passe.")
            return redirect(url_for("accounts.login"))
    return render_template("dashboard/new_password.html", form=form, problem=problem), \
        400 if (form.errors or problem) else 200
