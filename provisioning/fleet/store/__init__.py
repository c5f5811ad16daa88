"""The fleet server's store: its tables, migrations, engine, the check-in write path and retention."""
