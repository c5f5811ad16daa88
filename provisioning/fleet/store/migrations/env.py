"""Alembic environment: the engine is handed over by provisioning.fleet.store.migrate."""

from alembic import context

from provisioning.fleet.store import metadata

engine = context.config.attributes["engine"]
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
