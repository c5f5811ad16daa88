"""Consented remote assistance (prefix ``assist_``, issue 13 point 3): the log of assistance sessions.

One row per request a mediator makes from a machine's page: which machine, the mediator's account and
the name the resident is shown, when it was asked, started (the resident's « Oui ») and ended, and why
it ended. No image, pointer or message is ever stored: those live only in the relay's memory
(:mod:`provisioning.fleet.assist_relay`). ``kiosk_key_sha256`` is the digest of the session key handed
to the kiosk with the request (the window speaks to the relay with it, never with the device token).
Declared in the store's one ``MetaData``; migration 0014 builds it.
"""

from __future__ import annotations

import sqlalchemy as sa

from provisioning.fleet.store.schema import metadata

MEDIATOR_NAME_MAX_CHARS = 40
END_REASONS = ("refused", "resident", "mediator", "mediator_left", "session_end", "idle", "unreachable",
               "unanswered")

assist_sessions = sa.Table(
    "assist_sessions", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("device_id", sa.Integer, nullable=False),
    sa.Column("mediator_user_id", sa.Integer, nullable=False),
    sa.Column("mediator_name", sa.String(MEDIATOR_NAME_MAX_CHARS), nullable=False),
    sa.Column("mediator_title", sa.String(20), nullable=False),
    sa.Column("requested_at", sa.Float, nullable=False),
    sa.Column("started_at", sa.Float),
    sa.Column("ended_at", sa.Float),
    sa.Column("end_reason", sa.String(16)),
    sa.Column("kiosk_key_sha256", sa.String(64)),
    sa.Index("ix_assist_sessions_device", "device_id", "ended_at"),
)
