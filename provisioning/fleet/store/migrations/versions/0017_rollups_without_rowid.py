"""SQLite: the health roll-ups and the per-machine usage counters become WITHOUT ROWID tables.

Each was a rowid table beside its primary key's index: every check-in looked its rows up in the index,
then in the table (two B-trees), and a new row went into both. Keyed by their primary key, they are one
B-tree each, like the other tables the check-in writes (health_batches, usage_reports, the dashboard's
counters). SQLite cannot switch a table in place: each is copied into a new table built from its own
definition, then its indexes are created again. PostgreSQL has no rowid: nothing changes there.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-28
"""

from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None

TABLES = ('health_hourly', 'health_daily', 'usage_daily')
_SUFFIX = ' WITHOUT ROWID'


def _rebuild(table: str, without_rowid: bool) -> None:
    bind = op.get_bind()
    definition, = bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)).one()
    indexes = [sql for (sql,) in bind.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL", (table,))]
    body = definition.rstrip()
    if body.upper().endswith(_SUFFIX.strip()):
        body = body[:-len(_SUFFIX.strip())].rstrip()
    head, _, columns = body.partition('(')
    rebuilt = f'{table}_rebuilt'
    bind.exec_driver_sql(f'CREATE TABLE {rebuilt} ({columns}' + (_SUFFIX if without_rowid else ''))
    bind.exec_driver_sql(f'INSERT INTO {rebuilt} SELECT * FROM {table}')
    bind.exec_driver_sql(f'DROP TABLE {table}')
    bind.exec_driver_sql(f'ALTER TABLE {rebuilt} RENAME TO {table}')
    for index in indexes:
        bind.exec_driver_sql(index)


def _rebuild_all(without_rowid: bool) -> None:
    if op.get_bind().dialect.name != 'sqlite':
        return
    for table in TABLES:
        _rebuild(table, without_rowid)


def upgrade() -> None:
    _rebuild_all(without_rowid=True)


def downgrade() -> None:
    _rebuild_all(without_rowid=False)
