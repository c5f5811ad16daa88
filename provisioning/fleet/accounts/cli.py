"""``fleet user ...``, ``fleet demo-login`` and ``fleet commune-place``: staff accounts and town-hall
points from the command line. Registered into the ``fleet`` group by :func:`register`."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import sqlalchemy as sa

from provisioning.fleet.accounts import store
from provisioning.fleet.accounts.passwords import generate_password, password_problem
from provisioning.fleet.cli_context import engine_of
from provisioning.fleet.store.engine import write_transaction

def _write(ctx: click.Context, action):
    engine = engine_of(ctx)
    try:
        with write_transaction(engine) as conn:
            return action(conn)
    except store.AccountError as error:
        raise click.UsageError(str(error)) from None
    except sa.exc.OperationalError as error:
        if "no such table" in str(error) or "does not exist" in str(error):
            raise click.UsageError("la base n'est pas initialisée : lancez d'abord « fleet db upgrade ».") from None
        raise
    finally:
        engine.dispose()


def _choose_password(generate: bool) -> tuple[str, bool]:
    if generate or not sys.stdin.isatty():
        return generate_password(), True
    password = click.prompt("Mot de passe (12 caractères au moins)", hide_input=True, confirmation_prompt=
                            "Le même mot de passe, pour vérifier")
    problem = password_problem(password)
    if problem:
        raise click.UsageError(problem)
    return password, False


@click.group("user", help="Comptes du tableau de bord (équipe, administration, mairies).")
def user() -> None:
    pass


@user.command("add", help="Créer un compte. Le mot de passe est demandé, ou généré et affiché une seule fois.")
@click.argument("username")
@click.option("--role", type=click.Choice(["admin", "staff", "commune"]), required=True,
              help="admin : tout ; staff : parc et matériel ; commune : lecture seule, sa commune seulement")
@click.option("--commune", "commune_insee", help="code INSEE de la commune (rôle commune seulement)")
@click.option("--generate-password", is_flag=True, help="générer un mot de passe au lieu de le demander")
@click.pass_context
def user_add(ctx: click.Context, username: str, role: str, commune_insee: str | None, generate_password: bool) -> None:
    password, generated = _choose_password(generate_password)
    _write(ctx, lambda conn: store.create_user(conn, username, password, role, commune_insee))
    click.echo(f"Compte « {username} » créé (rôle {role}).")
    if generated:
        click.echo(f"Mot de passe : {password}")
        click.echo("Notez-le maintenant : il ne sera plus jamais affiché.", err=True)


@user.command("password", help="Changer le mot de passe d'un compte (demandé, ou généré).")
@click.argument("username")
@click.option("--generate-password", is_flag=True, help="générer un mot de passe au lieu de le demander")
@click.pass_context
def user_password(ctx: click.Context, username: str, generate_password: bool) -> None:
    password, generated = _choose_password(generate_password)
    _write(ctx, lambda conn: store.set_password(conn, username, password))
    click.echo(f"Mot de passe de « {username} » changé." + (f"\nMot de passe : {password}" if generated else ""))


@user.command("disable", help="Désactiver un compte (il ne peut plus se connecter).")
@click.argument("username")
@click.pass_context
def user_disable(ctx: click.Context, username: str) -> None:
    _write(ctx, lambda conn: store.disable_user(conn, username))
    click.echo(f"Compte « {username} » désactivé.")


@user.command("list", help="Lister les comptes.")
@click.pass_context
def user_list(ctx: click.Context) -> None:
    for row in _write(ctx, store.list_users):
        state = " (désactivé)" if row.disabled else ""
        commune = f" {row.commune_insee}" if row.commune_insee else ""
        click.echo(f"{row.username}\t{row.role}{commune}{state}")


@click.command("demo-login", help="Créer (ou renouveler) le compte administrateur de démonstration « demo » "
                                  "avec un mot de passe neuf, affiché une seule fois.")
@click.pass_context
def demo_login_command(ctx: click.Context) -> None:
    username, password = _write(ctx, store.demo_login)
    click.echo(f"Identifiant : {username}")
    click.echo(f"Mot de passe : {password}")


@click.command("commune-place", help="Renseigner le point numérique d'une commune (adresse, code postal, horaires) "
                                     "depuis un kiosk.yaml, pour l'export des lieux de médiation numérique.")
@click.argument("config_directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--siret", help="SIRET de la mairie (14 chiffres), exigé par le standard national")
@click.pass_context
def commune_place(ctx: click.Context, config_directory: Path, siret: str | None) -> None:
    from kiosk.config import ConfigError, load_config
    from provisioning.fleet.store.readmodel import save_place
    from provisioning.fleet.store.schema import communes
    if siret is not None and not (siret.isdigit() and len(siret) == 14):
        raise click.UsageError(f"SIRET « {siret} » invalide : 14 chiffres sans espace.")
    try:
        config = load_config(config_directory)
    except ConfigError as error:
        raise click.UsageError(f"{config_directory}/kiosk.yaml refusé : {error.problems[0]}") from None
    commune = config.commune
    engine = engine_of(ctx)
    try:
        with engine.connect() as conn:
            known = conn.execute(sa.select(communes.c.insee).where(communes.c.insee == commune.insee)).first()
        if known is None:
            raise click.UsageError(f"commune {commune.insee} inconnue du serveur : créez-la avec "
                                   f"« fleet enrolment-code {commune.insee} --name \"{commune.name}\" ».")
        values = {"postal_code": commune.postal_code, "address": commune.address,
                  "opening_hours": config.opening_hours.osm() or None}
        if siret:
            values["siret"] = siret
        save_place(engine, commune.insee, values)
    finally:
        engine.dispose()
    click.echo(f"Point numérique de {commune.name} ({commune.insee}) enregistré.")


def register(group: click.Group) -> None:
    for command in (user, demo_login_command, commune_place):
        group.add_command(command)
