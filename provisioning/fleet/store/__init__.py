"""The fleet server's store: its tables, migrations, engine, the check-in write path, raw health, the
staff side's read model and retention. It imports no page, view, form, export or metrics module
(tests/test_layers.py).

:data:`metadata` is the one SQLAlchemy ``MetaData`` of the database, with every table declared: the
tables the kiosks fill (:mod:`.schema`) and the staff side's (:mod:`.staff_schema`).
"""

from provisioning.fleet.store.schema import metadata
from provisioning.fleet.store import staff_schema  # noqa: F401  (declares the dash_ tables into metadata)
from provisioning.fleet.store import deadlines  # noqa: F401  (its triggers come with metadata.create_all)
from provisioning.fleet.store import followup_schema  # noqa: F401  (notes, daily statuses: dash_ tables too)
from provisioning.fleet.store import management_schema  # noqa: F401  (bundles, bus calendar: mgmt_ tables)
from provisioning.fleet.store import help_schema  # noqa: F401  (the residents' call-back requests: help_ tables)
from provisioning.fleet.store import releases_schema  # noqa: F401  (kiosk software releases: rel_ tables)
from provisioning.fleet.store import actions_schema  # noqa: F401  (messages and remote actions: mgmt_ tables)
from provisioning.fleet.store import assist_schema  # noqa: F401  (remote assistance log: assist_ tables)

__all__ = ["metadata"]
