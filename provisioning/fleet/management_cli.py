"""``fleet bundle-key`` (the fleet's Ed25519 key pair) and ``fleet bundle publish`` (a commune's
kiosk.yaml imported as its configuration bundle's next version): central management, issue 12."""

from __future__ import annotations

import datetime as dt
import getpass
import time
from pathlib import Path

import click

from provisioning.fleet.cli_context import engine_of


@click.command("bundle-key", help="Créer la paire de clés Ed25519 qui signe les paquets de configuration : "
                                  "FICHIER (privée, 0600, pour FLEET_BUNDLE_SIGNING_KEY) et FICHIER.pub "
                                  "(publique, installée sur les bornes).")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def bundle_key(path: Path) -> None:
    from provisioning.fleet.bundle_signing import SigningKeyError, make_key_pair
    try:
        public = make_key_pair(path)
    except SigningKeyError as error:
        raise click.UsageError(str(error)) from None
    except OSError as error:
        raise click.UsageError(f"impossible d'écrire {path} ({error.strerror}).") from None
    click.echo(f"Clé privée : {path} (à garder sur le serveur). Clé publique : {public} (pour les bornes).")


@click.group("bundle", help="Paquets de configuration des communes.")
def bundle() -> None:
    pass


def _jsonable(value):
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_jsonable(item) for item in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()[:10]
    return value


@bundle.command("publish", help="Publier le kiosk.yaml d'une commune comme nouvelle version de son paquet.")
@click.argument("commune_insee")
@click.argument("kiosk_yaml", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.pass_context
def publish(ctx: click.Context, commune_insee: str, kiosk_yaml: Path) -> None:
    from kiosk.yamlfile import read_yaml
    from provisioning.fleet.management import ManagementError, publish_site
    document = read_yaml(kiosk_yaml)
    if document.problems or not isinstance(document.data, dict):
        raise click.UsageError(f"{kiosk_yaml} illisible : " + "; ".join(str(p) for p in document.problems))
    site = _jsonable({key: value for key, value in document.data.items() if key != "catalog"})
    if site.get("commune", {}).get("insee") != commune_insee:
        raise click.UsageError(f"{kiosk_yaml} est celui de la commune {site.get('commune', {}).get('insee')}, "
                               f"pas de {commune_insee}.")
    engine = engine_of(ctx)
    try:
        version = publish_site(engine, commune_insee, site, f"cli:{getpass.getuser()}", time.time())
    except ManagementError as error:
        raise click.UsageError(f"{kiosk_yaml} refusé : " + " ; ".join(error.problems)) from None
    finally:
        engine.dispose()
    click.echo(f"Version {version} publiée pour la commune {commune_insee}.")


@click.group("catalog", help="Catalogue national des services, envoyé aux bornes avec la configuration.")
def catalog() -> None:
    pass


@catalog.command("import", help="Publier SERVICES_YAML et les pictogrammes (*.svg) des DOSSIERS comme nouvelle "
                                "version du catalogue national (chaque commune reçoit une nouvelle version).")
@click.argument("services_yaml", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.argument("pictogram_dirs", nargs=-1, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.pass_context
def catalog_import(ctx: click.Context, services_yaml: Path, pictogram_dirs: tuple[Path, ...]) -> None:
    from provisioning.fleet import catalog as national
    from provisioning.fleet.management import ManagementError
    try:
        services, pictograms = national.read_files(services_yaml, list(pictogram_dirs) or [services_yaml.parent / "pictograms"])
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise click.UsageError(f"{services_yaml} ou ses pictogrammes illisibles : {error}") from None
    engine = engine_of(ctx)
    try:
        version = national.publish(engine, _jsonable(services), pictograms, f"cli:{getpass.getuser()}", time.time())
    except ManagementError as error:
        raise click.UsageError(f"{services_yaml} refusé : " + " ; ".join(error.problems)) from None
    finally:
        engine.dispose()
    click.echo(f"Catalogue national publié : version {version} ({len(pictograms)} pictogrammes).")


def register(cli: click.Group) -> None:
    cli.add_command(bundle_key)
    cli.add_command(bundle)
    cli.add_command(catalog)
