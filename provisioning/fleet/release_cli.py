"""``fleet release publish`` / ``fleet release promote`` and ``fleet ring assign``: kiosk software
releases and the rings that receive them (issue 12)."""

from __future__ import annotations

import getpass
from pathlib import Path

import click

from provisioning.fleet.cli_context import engine_of, settings_of


def _by() -> str:
    return f"cli:{getpass.getuser()}"


@click.group("release", help="Versions du logiciel des bornes.")
def release() -> None:
    pass


@release.command("publish", help="Publier les paquets (.whl) de DOSSIER comme une version du logiciel des bornes.")
@click.argument("wheelhouse", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--version", "version", required=True, help="la version publiée, ex. 1.4.0")
@click.pass_context
def publish(ctx: click.Context, wheelhouse: Path, version: str) -> None:
    from provisioning.fleet.bundle_signing import SigningKeyError, load_private_key
    from provisioning.fleet.releases import ReleaseError, publish as publish_release
    settings = settings_of(ctx)
    if not settings.releases_dir or not settings.bundle_signing_key:
        raise click.UsageError("FLEET_RELEASES_DIR et FLEET_BUNDLE_SIGNING_KEY doivent être réglés "
                               "(dossier des versions, clé du parc).")
    try:
        key = load_private_key(settings.bundle_signing_key)
    except SigningKeyError as error:
        raise click.UsageError(str(error)) from None
    Path(settings.releases_dir).mkdir(parents=True, exist_ok=True)
    engine = engine_of(ctx)
    try:
        document = publish_release(engine, Path(settings.releases_dir), wheelhouse, version, key, _by())
    except ReleaseError as error:
        raise click.UsageError(str(error)) from None
    finally:
        engine.dispose()
    total = sum(entry["size"] for entry in document["files"])
    size = f"{total / 1e6:.1f}".replace(".", ",")
    click.echo(f"Version {version} publiée : {len(document['files'])} paquet(s), {size}\u00a0Mo. "
               f"Aucune borne ne la reçoit avant « fleet release promote {version} --ring pilote ».")


@release.command("promote", help="Faire de VERSION celle que les bornes d'un anneau doivent utiliser.")
@click.argument("version")
@click.option("--ring", type=click.Choice(["pilote", "tous"]), required=True, help="pilote ou tous")
@click.pass_context
def promote(ctx: click.Context, version: str, ring: str) -> None:
    from provisioning.fleet.releases import ReleaseError, promote as promote_release
    engine = engine_of(ctx)
    try:
        promote_release(engine, version, ring, _by())
    except ReleaseError as error:
        raise click.UsageError(str(error)) from None
    finally:
        engine.dispose()
    click.echo(f"Anneau {ring} : version {version}, installée par les bornes à leur prochaine connexion.")


@click.group("ring", help="Anneaux de déploiement (pilote, tous).")
def ring() -> None:
    pass


@ring.command("assign", help="Placer des bornes (numéros d'inventaire) dans un anneau.")
@click.option("--ring", "ring_name", type=click.Choice(["pilote", "tous"]), default="tous", show_default=True)
@click.argument("asset_tags", nargs=-1, required=True)
@click.pass_context
def assign(ctx: click.Context, ring_name: str, asset_tags: tuple[str, ...]) -> None:
    from provisioning.fleet.releases import ReleaseError, assign_ring
    engine = engine_of(ctx)
    try:
        count = assign_ring(engine, list(asset_tags), ring_name)
    except ReleaseError as error:
        raise click.UsageError(str(error)) from None
    finally:
        engine.dispose()
    click.echo(f"{count} borne(s) dans l'anneau {ring_name}.")


def register(cli: click.Group) -> None:
    cli.add_command(release)
    cli.add_command(ring)
