"""What every ``fleet`` sub-command reads from the command line: the settings (``FLEET_*`` variables,
``--database-url`` on the root group) and an engine on the store. The root group (:mod:`.cli`) and the
account commands (:mod:`.accounts.cli`) both use it; neither imports the other's internals."""

from __future__ import annotations

import dataclasses

import click
import sqlalchemy as sa

from provisioning.fleet.settings import Settings, SettingsError


def settings_of(ctx: click.Context) -> Settings:
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        raise click.UsageError(f"réglage FLEET_* invalide : {error}") from None
    url = ctx.find_root().params.get("database_url")
    if url:
        settings = dataclasses.replace(settings, database_url=url)
    return settings


def engine_of(ctx: click.Context) -> sa.Engine:
    """A new engine on the store (the caller disposes of it)."""
    from provisioning.fleet.store.engine import make_engine
    return make_engine(settings_of(ctx).database_url)
