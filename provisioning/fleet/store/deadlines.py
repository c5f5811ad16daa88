"""``devices.late_at``: the moment a machine stops being on time, kept by the database itself.

A machine is on time while its last check-in is at most twice its commune's expected interval old
(the rule of the dashboard's status, ``dashboard/status.py``); ``late_at = last_seen_at + 2 ×
expected_interval_s`` is when that ends. The overview needs the machines that are late, offline or
lost: with ``late_at`` indexed they are one index range (``late_at < now``) whatever the fleet's size,
instead of a status computed for every machine on every request.

Why a stored deadline rather than a stored state: being late, offline or lost is a matter of time
passing, not of anything being written. A stored state would be wrong as soon as a deadline passes
until a periodic sweep rewrote it (and the overview would have to trust the sweep's timer); a
deadline never goes stale, and "which machines are past their deadline" is a range predicate.

Triggers keep it, whoever writes: the check-in (``last_seen_at``), enrolment (insert), a move to
another commune (``commune_insee``) and a change of the commune's interval, and tests or tools that
write these columns directly. On SQLite a trigger cannot change the row being written, so it updates
it again (recursive triggers are off: that update fires nothing) — unless the writer set ``late_at``
itself, as the check-in does (that second write of the row was a tenth of a check-in's work: migration
0015); PostgreSQL sets it before the write.
The same DDL is attached to the tables for ``metadata.create_all`` and run by migration 0007.
"""

from __future__ import annotations

import sqlalchemy as sa

from provisioning.fleet.store.schema import communes, devices

_INTERVAL_OF_NEW = "(SELECT expected_interval_s FROM communes WHERE insee = NEW.commune_insee)"

# The check-in sets ``late_at`` in its own UPDATE (hot_sql.LATE_AT): the trigger then writes nothing; any
# other writer of these columns leaves ``late_at`` as it was, and the trigger computes it.
SQLITE_UPDATE_TRIGGER = f"""CREATE TRIGGER tr_devices_late_at_update AFTER UPDATE OF last_seen_at, commune_insee ON devices
WHEN NEW.late_at IS OLD.late_at
BEGIN UPDATE devices SET late_at = NEW.last_seen_at + 2 * {_INTERVAL_OF_NEW} WHERE id = NEW.id; END"""

SQLITE_TRIGGERS = (
    f"""CREATE TRIGGER tr_devices_late_at_insert AFTER INSERT ON devices
BEGIN UPDATE devices SET late_at = NEW.last_seen_at + 2 * {_INTERVAL_OF_NEW} WHERE id = NEW.id; END""",
    SQLITE_UPDATE_TRIGGER,
    """CREATE TRIGGER tr_communes_late_at AFTER UPDATE OF expected_interval_s ON communes
BEGIN UPDATE devices SET late_at = last_seen_at + 2 * NEW.expected_interval_s WHERE commune_insee = NEW.insee; END""",
)
SQLITE_DROPS = ("DROP TRIGGER IF EXISTS tr_devices_late_at_insert", "DROP TRIGGER IF EXISTS tr_devices_late_at_update",
                "DROP TRIGGER IF EXISTS tr_communes_late_at")

POSTGRES_TRIGGERS = (
    f"""CREATE FUNCTION devices_late_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.late_at := NEW.last_seen_at + 2 * {_INTERVAL_OF_NEW}; RETURN NEW; END $$""",
    """CREATE TRIGGER tr_devices_late_at BEFORE INSERT OR UPDATE OF last_seen_at, commune_insee ON devices
FOR EACH ROW EXECUTE FUNCTION devices_late_at()""",
    """CREATE FUNCTION communes_late_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN UPDATE devices SET late_at = last_seen_at + 2 * NEW.expected_interval_s WHERE commune_insee = NEW.insee;
RETURN NULL; END $$""",
    """CREATE TRIGGER tr_communes_late_at AFTER UPDATE OF expected_interval_s ON communes
FOR EACH ROW WHEN (OLD.expected_interval_s IS DISTINCT FROM NEW.expected_interval_s)
EXECUTE FUNCTION communes_late_at()""",
)
POSTGRES_DROPS = ("DROP TRIGGER IF EXISTS tr_communes_late_at ON communes", "DROP FUNCTION IF EXISTS communes_late_at()",
                  "DROP TRIGGER IF EXISTS tr_devices_late_at ON devices", "DROP FUNCTION IF EXISTS devices_late_at()")

BACKFILL = """UPDATE devices SET late_at = last_seen_at + 2 * (
    SELECT expected_interval_s FROM communes WHERE communes.insee = devices.commune_insee)"""


def triggers(dialect: str) -> tuple[str, ...]:
    return POSTGRES_TRIGGERS if dialect == "postgresql" else SQLITE_TRIGGERS


def drops(dialect: str) -> tuple[str, ...]:
    return POSTGRES_DROPS if dialect == "postgresql" else SQLITE_DROPS


def install(connection: sa.Connection) -> None:
    """Create the triggers and compute ``late_at`` for the machines already there (migration 0007)."""
    for statement in triggers(connection.dialect.name):
        connection.exec_driver_sql(statement)
    connection.exec_driver_sql(BACKFILL)


def remove(connection: sa.Connection) -> None:
    for statement in drops(connection.dialect.name):
        connection.exec_driver_sql(statement)


@sa.event.listens_for(devices, "after_create")
def _after_create(_table, connection, **_kw) -> None:
    """``metadata.create_all`` (tests that build a bare schema): the triggers come with the tables. Both
    tables exist here, ``communes`` being created first (``devices`` references it)."""
    if sa.inspect(connection).has_table(communes.name):
        for statement in triggers(connection.dialect.name):
            connection.exec_driver_sql(statement)
