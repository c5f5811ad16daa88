"""Messages and remote actions (prefix ``mgmt_``, issue 12 point 3).

* ``mgmt_actions``: an action staff queued for one kiosk (restart the kiosk session, reboot the PC at the
  next session boundary, collect a diagnostic). It is handed out in every check-in answer until the agent
  acknowledges it (``delivered_at`` records the first time), so a kiosk that was offline gets it on its
  next check-in; the agent executes an action id once. States: ``pending`` (never handed out),
  ``delivered``, ``accepted`` (the kiosk will run it at its next session boundary), ``done``, ``failed``,
  ``cancelled`` (by staff, before the kiosk acknowledged it). Nothing expires: a pending action stays
  shown, with its age, until the kiosk answers or staff cancel it. ``diagnostic`` holds the filtered
  journal a diagnostic action brought back (bounded, no resident data).
* ``mgmt_messages``: a banner for one kiosk (``asset_tag``), a commune (``commune_insee``) or the whole
  fleet (both null), shown on the kiosks' shell until ``ends_at``.

Declared in the store's one ``MetaData``; migration 0012 builds them.
"""

from __future__ import annotations

import sqlalchemy as sa

from provisioning.fleet.store.schema import metadata

ACTION_KINDS = ("restart", "reboot", "diagnostic")
ACTION_STATES = ("pending", "delivered", "accepted", "done", "failed", "cancelled")
MESSAGE_MAX_CHARS = 280
DETAIL_MAX_CHARS = 300
DIAGNOSTIC_MAX_CHARS = 256 * 1024

actions = sa.Table(
    "mgmt_actions", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("device_id", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("state", sa.String(12), nullable=False, server_default="pending"),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("delivered_at", sa.Float),
    sa.Column("answered_at", sa.Float),
    sa.Column("cancelled_at", sa.Float),
    sa.Column("cancelled_by", sa.String(64)),
    sa.Column("detail", sa.String(DETAIL_MAX_CHARS)),
    sa.Column("diagnostic", sa.Text),
    sa.CheckConstraint("kind IN ('restart', 'reboot', 'diagnostic')", name="ck_mgmt_actions_kind"),
    sa.CheckConstraint("state IN ('pending', 'delivered', 'accepted', 'done', 'failed', 'cancelled')",
                       name="ck_mgmt_actions_state"),
    sa.Index("ix_mgmt_actions_device_state", "device_id", "state"),
)

messages = sa.Table(
    "mgmt_messages", metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("text", sa.String(MESSAGE_MAX_CHARS), nullable=False),
    sa.Column("asset_tag", sa.String(32)),       # one kiosk
    sa.Column("commune_insee", sa.String(5)),    # one commune (asset_tag null); both null: the whole fleet
    sa.Column("ends_at", sa.Float, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("cancelled_at", sa.Float),
    sa.Index("ix_mgmt_messages_ends_at", "ends_at"),
)
