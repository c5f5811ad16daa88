"""The dashboard's forms (Flask-WTF: every form carries and checks a CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, EmailField, PasswordField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp

from provisioning.fleet.store.staff_schema import LIFECYCLE_STATES

LIFECYCLE_CHOICES = [SelectChoice(value, label) for value, label in (
    ("donated", "Donnée"), ("refurbished", "Reconditionnée"), ("deployed", "Installée"), ("returned", "Revenue"),
    ("recycled", "Recyclée"))]
assert [choice.value for choice in LIFECYCLE_CHOICES] == list(LIFECYCLE_STATES)


class LoginForm(FlaskForm):
    username = StringField("Identifiant", validators=[DataRequired("Indiquez votre identifiant."), Length(max=64)])
    password = PasswordField("Mot de passe", validators=[DataRequired("Indiquez votre mot de passe."), Length(max=200)])


class ConfirmForm(FlaskForm):
    """A button that changes something (log out, revoke, rotate): only the CSRF token."""


class MoveForm(FlaskForm):
    commune = SelectField("Nouvelle commune", validators=[DataRequired("Choisissez une commune.")])


class LifecycleForm(FlaskForm):
    lifecycle_state = SelectField("Étape du cycle de vie", choices=LIFECYCLE_CHOICES)
    donor = StringField("Donateur", validators=[Optional(), Length(max=120, message="120 caractères au plus.")])
    intake_date = DateField("Date d'entrée (AAAA-MM-JJ)", validators=[Optional()],
                            render_kw={"placeholder": "2026-03-14"})
    erasure_certificate = StringField("Référence du certificat d'effacement des données", validators=[
        Optional(), Length(max=80, message="80 caractères au plus.")])


class PlaceForm(FlaskForm):
    postal_code = StringField("Code postal", validators=[Optional(), Regexp(r"^\d{5}$", message="5 chiffres, par exemple 31110.")])
    address = StringField("Adresse du point numérique", validators=[Optional(), Length(max=200)])
    siret = StringField("SIRET de la mairie (14 chiffres)", validators=[
        Optional(), Regexp(r"^\d{14}$", message="14 chiffres, sans espace.")])
    opening_hours = StringField("Horaires (format OpenStreetMap, par exemple Mo-Fr 09:00-12:00)", validators=[
        Optional(), Length(max=300), Regexp(r"^[A-Za-z0-9:,;\- ]+$", message="format OpenStreetMap : Mo 09:00-12:00; Tu ...")])
    phone = StringField("Téléphone de la mairie", validators=[
        Optional(), Regexp(r"^(\+33 ?|0)[1-9]([ .]?\d{2}){4}$", message="10 chiffres, par exemple 05 61 79 00 00.")])
    email = EmailField("Adresse électronique de la mairie", validators=[
        Optional(), Length(max=254), Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="par exemple mairie@exemple.fr.")])


class NoteForm(FlaskForm):
    """The staff's note on a machine (« Jean passe jeudi »); empty removes it."""

    text = TextAreaField("Note de l'équipe sur cette machine", validators=[
        Optional(), Length(max=500, message="500 caractères au plus.")])


class AssetForm(LifecycleForm):
    """A machine recorded before it is enrolled (donated, being refurbished), or its record updated."""

    asset_tag = StringField("Numéro d'inventaire (étiquette)", validators=[
        DataRequired("Indiquez le numéro d'inventaire."),
        Regexp(r"^[A-Z0-9][A-Z0-9-]{1,31}$", message="majuscules, chiffres et tirets, par exemple AB-0042.")])
