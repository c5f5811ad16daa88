"""``fleet suivi``: the staff's periodic follow-up, run by a timer every few minutes (fleet_server role):
records each machine's status of the day (the machine page's 90-day timeline, the report's availability).
The e-mail alerts will hang on the same run."""

from __future__ import annotations

import time

import click

from kiosk.text.french import plural
from provisioning.fleet.cli_context import engine_of


@click.command("suivi", help="Relever l'état du jour de chaque machine (chronologie sur 90 jours). "
                             "Lancé par un minuteur toutes les quelques minutes.")
@click.pass_context
def followup(ctx: click.Context) -> None:
    from provisioning.fleet.dashboard.followup_queries import record_statuses
    from provisioning.fleet.store.engine import write_transaction
    engine = engine_of(ctx)
    try:
        with write_transaction(engine) as conn:
            count = record_statuses(conn, time.time())
    finally:
        engine.dispose()
    click.echo(f"État du jour relevé : {plural(count, 'machine', 'machines')}.")


def register(cli: click.Group) -> None:
    cli.add_command(followup)
