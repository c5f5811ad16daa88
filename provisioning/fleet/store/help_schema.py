"""The residents' help tables (prefix ``help_``, issue 13): call-back requests made at a kiosk.

A request holds only what the mediator needs to call back (how to call the person, a phone number, a
subject, a time slot) and the commune of the point, copied when it arrives, never a page or a site.
The staff follow it (new, in progress, done; who took it; a short note). ``fleet suivi`` e-mails "1
nouvelle demande à <commune>" once (``notified_at``) and deletes a request ``callback_retention_days``
after it is done. Declared in the store's one ``MetaData``; migration 0011 builds it.
"""

from __future__ import annotations

import sqlalchemy as sa

from provisioning.fleet.store.schema import metadata

STATUSES = ("new", "in_progress", "done")
NOTE_MAX_CHARS = 500

callback_requests = sa.Table(
    "help_callback_requests", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("request_id", sa.String(32), nullable=False, unique=True),  # the kiosk's: delivered once
    sa.Column("device_id", sa.Integer, nullable=False),
    sa.Column("commune_insee", sa.String(5), nullable=False),
    sa.Column("name", sa.String(60), nullable=False),
    sa.Column("phone", sa.String(14), nullable=False),
    sa.Column("subject", sa.String(16), nullable=False),
    sa.Column("slot", sa.String(20), nullable=False),
    sa.Column("made_at", sa.Float, nullable=False),
    sa.Column("received_at", sa.Float, nullable=False),
    sa.Column("status", sa.String(12), nullable=False, server_default="new"),
    sa.Column("taken_by", sa.String(64)),
    sa.Column("note", sa.String(NOTE_MAX_CHARS)),
    sa.Column("updated_at", sa.Float, nullable=False),
    sa.Column("done_at", sa.Float),
    sa.Column("notified_at", sa.Float),
    sa.CheckConstraint("status IN ('new', 'in_progress', 'done')", name="ck_help_callback_requests_status"),
    sa.Index("ix_help_callback_requests_status", "status", "received_at"),
    sa.Index("ix_help_callback_requests_done_at", "done_at"),
)
