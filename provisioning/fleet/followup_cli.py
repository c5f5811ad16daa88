"""``fleet suivi``: the staff's periodic follow-up, run by a timer every few minutes (fleet_server role):
records each machine's status of the day (the machine page's 90-day timeline, the report's availability)
and sends the staff's e-mail alerts (dashboard/alerts.py)."""

from __future__ import annotations

import smtplib
import time

import click

from kiosk.text.french import plural
from provisioning.fleet.cli_context import engine_of, settings_of


@click.command("suivi", help="Relever l'état du jour de chaque machine (chronologie sur 90 jours) et envoyer "
                             "les alertes par courriel. Lancé par un minuteur toutes les quelques minutes.")
@click.pass_context
def followup(ctx: click.Context) -> None:
    from provisioning.fleet.dashboard import alerts
    from provisioning.fleet.dashboard.followup_queries import record_statuses
    from provisioning.fleet.store.engine import write_transaction
    engine = engine_of(ctx)
    try:
        with write_transaction(engine) as conn:
            count = record_statuses(conn, time.time())
        purged, told = _callbacks(engine, settings_of(ctx))
        try:
            found, sent = alerts.run(engine, settings_of(ctx))
        except (OSError, smtplib.SMTPException) as error:
            raise click.ClickException(f"alertes non envoyées (serveur de courriel : {error}) ; "
                                       "elles seront retentées au prochain passage.") from None
    finally:
        engine.dispose()
    click.echo(f"État du jour relevé : {plural(count, 'machine', 'machines')}. "
               f"Alertes : {plural(found, 'changement', 'changements')}, {plural(sent, 'courriel envoyé', 'courriels envoyés')}.")
    click.echo(f"Demandes de rappel : {plural(told, 'courriel envoyé', 'courriels envoyés')}, "
               f"{plural(purged, 'demande traitée supprimée', 'demandes traitées supprimées')}.")


def _callbacks(engine, settings) -> tuple[int, int]:
    """The residents' call-back requests: delete those done long ago, tell the staff of new ones."""
    from provisioning.fleet.dashboard import callbacks_queries
    from provisioning.fleet.store.engine import write_transaction
    now = time.time()
    with write_transaction(engine) as conn:
        purged = callbacks_queries.purge_done(conn, now, settings.callback_retention_days)
    try:
        told = callbacks_queries.notify(engine, settings, now)
    except (OSError, smtplib.SMTPException) as error:
        raise click.ClickException(f"demandes de rappel non annoncées (serveur de courriel : {error}) ; "
                                   "elles seront retentées au prochain passage.") from None
    return purged, told


def register(cli: click.Group) -> None:
    cli.add_command(followup)
