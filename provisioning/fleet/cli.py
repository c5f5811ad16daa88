"""The ``fleet`` command: database migrations, enrolment codes, device tokens, retention, dev server.

Settings come from ``FLEET_*`` environment variables (see docs/telemetry.md); ``--database-url``
overrides ``FLEET_DATABASE_URL``. Messages are in French (staff read them); bad input exits with 2.
"""

from __future__ import annotations

import re
import sys
import time

import click

from provisioning.click_french import french_click
from provisioning.fleet.accounts import cli as account_commands
from provisioning.fleet import followup_cli as followup_commands
from provisioning.fleet import management_cli as management_commands
from provisioning.fleet import release_cli as release_commands
from provisioning.fleet.cli_context import engine_of, settings_of
from provisioning.fleet.settings import SettingsError

EXIT_BAD_INPUT = 2
INSEE = re.compile(r"^([0-9]{5}|2[AB][0-9]{3})$")
ASSET_TAG = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,31}$")


@click.group(help="Serveur de flotte : inscription des bornes, réception des remontées.")
@click.option("--database-url", envvar=None, default=None,
              help="URL de la base (remplace FLEET_DATABASE_URL), ex. sqlite:////var/lib/kiosk-fleet/fleet.db")
def cli(database_url: str | None) -> None:
    pass


@cli.group(help="Base de données.")
def db() -> None:
    pass


@db.command("upgrade", help="Créer ou mettre à jour les tables (migrations Alembic).")
@click.pass_context
def db_upgrade(ctx: click.Context) -> None:
    from provisioning.fleet.store.migrate import current_revision, upgrade
    url = settings_of(ctx).database_url
    translated = upgrade(url)
    if translated:
        click.echo(f"Révision {translated[0]} de l'ancienne numérotation reconnue : c'est la révision {translated[1]}.")
    click.echo(f"Base à jour (révision {current_revision(url)}).")


@cli.command("enrolment-code", help="Créer un code d'inscription à usage unique pour une borne de la commune.")
@click.argument("commune_insee")
@click.option("--name", help="nom de la commune (obligatoire la première fois)")
@click.option("--expected-interval-h", type=click.IntRange(1, 24 * 14),
              help="profil de connexion : toutes les combien d'heures la commune doit se connecter "
                   "(ex. 24 pour une zone blanche)")
@click.option("--asset-tag", help="code de réinstallation : réservé à cette borne déjà inscrite, même si elle "
                                  "se connecte encore ou appartient à une autre commune (décision de l'équipe)")
@click.pass_context
def enrolment_code(ctx: click.Context, commune_insee: str, name: str | None, expected_interval_h: int | None,
                   asset_tag: str | None) -> None:
    from provisioning.fleet.enrolment import UnknownCommune, UnknownDevice, create_enrolment_code
    if not INSEE.match(commune_insee):
        raise click.UsageError(
            f"code INSEE « {commune_insee} » invalide : il faut 5 caractères, ex. 31042 ou 2A004.")
    if asset_tag is not None and not ASSET_TAG.match(asset_tag):
        raise click.UsageError(f"étiquette « {asset_tag} » invalide : majuscules, chiffres et tirets, ex. AB-0042.")
    settings = settings_of(ctx)
    engine = engine_of(ctx)
    try:
        code = create_enrolment_code(
            engine, commune_insee, time.time(), settings.enrolment_code_ttl_days, name=name,
            expected_interval_s=expected_interval_h * 3600 if expected_interval_h else None, asset_tag=asset_tag)
    except UnknownCommune:
        raise click.UsageError(
            f"commune {commune_insee} inconnue : ajoutez --name \"Nom de la commune\" pour la créer.") from None
    except UnknownDevice:
        raise click.UsageError(f"aucune borne inscrite sous l'étiquette {asset_tag} : "
                               "une nouvelle borne s'inscrit avec un code sans --asset-tag.") from None
    finally:
        engine.dispose()
    click.echo(code)
    which = f"pour réinstaller la borne {asset_tag}" if asset_tag else "pour une seule borne"
    click.echo(f"Code valable {settings.enrolment_code_ttl_days} jours, {which}. "
               "Il ne sera plus affiché.", err=True)


@cli.group(help="Jetons des bornes.")
def tokens() -> None:
    pass


def _asset_tag(value: str) -> str:
    if not ASSET_TAG.match(value):
        raise click.UsageError(f"numéro d'inventaire « {value} » invalide : ex. AB-0042 (majuscules, chiffres, tirets).")
    return value


def _on_device(ctx: click.Context, asset_tag: str, action):
    """Run ``action(engine, asset_tag, now)`` on an enrolled machine; an unknown tag is a usage error."""
    from provisioning.fleet.enrolment import UnknownDevice
    engine = engine_of(ctx)
    try:
        return action(engine, _asset_tag(asset_tag), time.time())
    except UnknownDevice:
        raise click.UsageError(f"aucune borne inscrite avec le numéro d'inventaire {asset_tag}.") from None
    finally:
        engine.dispose()


@tokens.command("revoke", help="Révoquer les jetons d'une borne (il faudra l'inscrire à nouveau).")
@click.argument("asset_tag")
@click.pass_context
def tokens_revoke(ctx: click.Context, asset_tag: str) -> None:
    from provisioning.fleet.enrolment import revoke_tokens
    count = _on_device(ctx, asset_tag, revoke_tokens)
    click.echo(f"{count} jeton(s) révoqué(s) pour {asset_tag}.")


@tokens.command("rotate", help="Remplacer le jeton d'une borne à sa prochaine connexion.")
@click.argument("asset_tag")
@click.pass_context
def tokens_rotate(ctx: click.Context, asset_tag: str) -> None:
    from provisioning.fleet.enrolment import request_rotation
    _on_device(ctx, asset_tag, request_rotation)
    click.echo(f"Nouveau jeton remis à {asset_tag} à sa prochaine connexion ; l'ancien cessera alors de valoir.")


@cli.command("prune", help="Appliquer les durées de conservation (mesures brutes, agrégats, usage).")
@click.pass_context
def prune(ctx: click.Context) -> None:
    from provisioning.fleet.store.retention import prune as run_prune
    settings = settings_of(ctx)
    engine = engine_of(ctx)
    try:
        removed = run_prune(engine, settings)
    finally:
        engine.dispose()
    click.echo("Supprimé : " + ", ".join(f"{table} {count}" for table, count in removed.items()) + ".")


@cli.command("serve", help="Serveur de développement (en production : gunicorn, voir docs/telemetry.md).")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    from provisioning.fleet import create_app
    settings = settings_of(ctx)
    try:
        app = create_app(settings)
    except SettingsError as error:
        raise click.UsageError(str(error)) from None
    app.run(host=host, port=port, threaded=True)


# The staff accounts' commands: fleet user ..., fleet demo-login, fleet commune-place.
account_commands.register(cli)
# The staff's periodic follow-up: fleet suivi.
followup_commands.register(cli)
management_commands.register(cli)  # fleet bundle-key, fleet bundle publish
release_commands.register(cli)  # fleet release publish/promote, fleet ring assign


def main(argv: list[str] | None = None) -> int:
    with french_click():  # click's own usage errors and help headings in French
        return _main(argv)


def _main(argv: list[str] | None) -> int:
    try:
        cli.main(args=argv, prog_name="fleet", standalone_mode=False)
    except click.UsageError as error:
        click.echo(f"Erreur : {error.format_message()}", err=True)
        return EXIT_BAD_INPUT
    except click.ClickException as error:
        click.echo(f"Erreur : {error.format_message()}", err=True)
        return error.exit_code
    except click.exceptions.Abort:
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
