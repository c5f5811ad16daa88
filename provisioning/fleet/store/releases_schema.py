"""Kiosk software releases' tables (prefix ``rel_``, issue 12).

* ``rel_releases``: every published version of the kiosk software (its wheels and signed manifest live
  on disk, under the ``releases_dir`` setting); never edited once published.
* ``rel_ring_targets``: per ring (``pilote``, ``tous``), the version its machines should run.
* ``rel_machine_status``: per enrolled machine, its ring (absent row: ``tous``), the version it reports
  running and the last step it reported (downloaded, installed, switched, rolled_back, failed) with a
  bounded reason.

Declared in the store's one ``MetaData``; migration 0013 builds them.
"""

from __future__ import annotations

import sqlalchemy as sa

from provisioning.fleet.store.schema import metadata

RINGS = ("pilote", "tous")
DEFAULT_RING = "tous"
STATES = ("downloaded", "installed", "switched", "rolled_back", "failed")
VERSION_MAX_CHARS = 40
REASON_MAX_CHARS = 300

releases = sa.Table(
    "rel_releases", metadata,
    sa.Column("version", sa.String(VERSION_MAX_CHARS), primary_key=True),
    sa.Column("package", sa.String(64), nullable=False),
    sa.Column("file_count", sa.Integer, nullable=False),
    sa.Column("total_bytes", sa.BigInteger, nullable=False),
    sa.Column("manifest_sha256", sa.String(64), nullable=False),
    sa.Column("published_at", sa.Float, nullable=False),
    sa.Column("published_by", sa.String(64), nullable=False),
)

ring_targets = sa.Table(
    "rel_ring_targets", metadata,
    sa.Column("ring", sa.String(16), primary_key=True),
    sa.Column("version", sa.String(VERSION_MAX_CHARS), sa.ForeignKey("rel_releases.version"), nullable=False),
    sa.Column("promoted_at", sa.Float, nullable=False),
    sa.Column("promoted_by", sa.String(64), nullable=False),
    sa.CheckConstraint("ring IN ('pilote', 'tous')", name="ck_rel_ring_targets_ring"),
)

machine_status = sa.Table(
    "rel_machine_status", metadata,
    sa.Column("device_id", sa.Integer, sa.ForeignKey("devices.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("ring", sa.String(16), nullable=False, server_default=DEFAULT_RING),
    sa.Column("running_version", sa.String(VERSION_MAX_CHARS)),
    sa.Column("state", sa.String(16)),
    sa.Column("state_version", sa.String(VERSION_MAX_CHARS)),
    sa.Column("reason", sa.String(REASON_MAX_CHARS)),
    sa.Column("reported_at", sa.Float),
    sa.CheckConstraint("ring IN ('pilote', 'tous')", name="ck_rel_machine_status_ring"),
    sa.CheckConstraint("state IS NULL OR state IN ('downloaded', 'installed', 'switched', 'rolled_back', 'failed')",
                       name="ck_rel_machine_status_state"),
    sa.Index("ix_rel_machine_status_ring", "ring"),
)
