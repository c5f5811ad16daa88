"""Central management's tables (prefix ``mgmt_``, issue 12): the configuration bundles the fleet server
publishes per commune, the association's bus calendar, and where each kiosk stands with its bundle.

* ``mgmt_bundles``: every published version of a commune's bundle, never edited in place. ``content`` is
  the canonical JSON of what the kiosks receive (the commune's part of kiosk.yaml, bus calendar
  included); ``version`` counts up per commune from 1; a rollback publishes an older content again
  under a new version, so kiosks only ever move forward.
* ``mgmt_bus_visits``: the bus calendar the staff edit (one row per visit), copied into each new bundle.
* ``mgmt_kiosk_bundles``: per kiosk, the version it applied and the last one it refused, with why.
* ``mgmt_catalogs``: every published version of the national services catalog with its pictograms (one
  JSON document: ``{"catalog": services.yaml's content, "pictograms": {file name: SVG text}}``), national,
  versioned like the bundles; each commune's bundle names the catalog version it carries.

Declared in the store's one ``MetaData``; migration 0010 builds the first three, 0016 the catalogs.
"""

from __future__ import annotations

import sqlalchemy as sa

from provisioning.fleet.store.schema import metadata

REFUSAL_MAX_CHARS = 300

bundles = sa.Table(
    "mgmt_bundles", metadata,
    sa.Column("commune_insee", sa.String(5), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("content", sa.Text, nullable=False),
    sa.Column("summary", sa.String(200), nullable=False),  # what changed, in French ("Calendrier du bus")
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.CheckConstraint("version >= 1", name="ck_mgmt_bundles_version"),
)

bus_visits = sa.Table(
    "mgmt_bus_visits", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("commune_insee", sa.String(5), nullable=False),
    sa.Column("day", sa.String(10), nullable=False),  # YYYY-MM-DD
    sa.Column("hours", sa.String(11), nullable=False),  # HH:MM-HH:MM
    sa.Column("place", sa.String(140), nullable=False),
    sa.Index("ix_mgmt_bus_visits_commune_day", "commune_insee", "day"),
)

kiosk_bundles = sa.Table(
    "mgmt_kiosk_bundles", metadata,
    sa.Column("asset_tag", sa.String(32), primary_key=True),
    sa.Column("applied_version", sa.Integer),
    sa.Column("refused_version", sa.Integer),
    sa.Column("refusal", sa.String(REFUSAL_MAX_CHARS)),
    sa.Column("reported_at", sa.Float, nullable=False),
)

catalogs = sa.Table(
    "mgmt_catalogs", metadata,
    sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("content", sa.Text, nullable=False),
    sa.Column("summary", sa.String(200), nullable=False),  # what changed, in French
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.CheckConstraint("version >= 1", name="ck_mgmt_catalogs_version"),
)
