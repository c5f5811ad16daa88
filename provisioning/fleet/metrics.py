"""``/metrics``: fleet-level gauges in the Prometheus text exposition format (version 0.0.4).

Protected: a bearer token (the ``metrics_token`` setting, compared in constant time) or an ``admin`` or
``staff`` login. Only fleet-wide figures: no per-commune label, no usage counts that could be small.
"""

from __future__ import annotations

import hmac
import time

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, request
from flask_login import current_user

from provisioning.fleet.accounts.access import FLEET_ROLES, db, session_is_fresh
from provisioning.fleet.dashboard import fleet_queries
from provisioning.fleet.dashboard.status import FLAGS, STATUSES
from provisioning.fleet.store.schema import communes

blueprint = Blueprint("metrics", __name__)


def _authorised() -> bool:
    expected = current_app.config["FLEET_SETTINGS"].metrics_token
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if expected and scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), expected.encode()):
        return True
    return bool(current_user.is_authenticated and current_user.role in FLEET_ROLES and session_is_fresh())


def exposition(conn: sa.Connection, now: float, version: str) -> str:
    totals = fleet_queries.overview(conn, fleet_queries.OverviewFilters(lifecycle="deployed"), now, version, None,
                                    page_size=1)
    lines = ["# HELP kiosk_fleet_machines Deployed machines by status (relative to each commune's connection profile).",
             "# TYPE kiosk_fleet_machines gauge"]
    lines += [f'kiosk_fleet_machines{{status="{name}"}} {totals["status_counts"][name]}' for name in STATUSES]
    lines += ["# HELP kiosk_fleet_machines_flagged Deployed machines with a health flag.",
              "# TYPE kiosk_fleet_machines_flagged gauge"]
    lines += [f'kiosk_fleet_machines_flagged{{flag="{name}"}} {totals["flag_counts"][name]}' for name in FLAGS]
    lines += ["# HELP kiosk_fleet_communes Communes known to the fleet server.", "# TYPE kiosk_fleet_communes gauge",
              f"kiosk_fleet_communes {conn.execute(sa.select(sa.func.count()).select_from(communes)).scalar_one()}",
              "# HELP kiosk_fleet_scrape_timestamp_seconds When these figures were computed.",
              "# TYPE kiosk_fleet_scrape_timestamp_seconds gauge", f"kiosk_fleet_scrape_timestamp_seconds {now:.3f}"]
    return "\n".join(lines) + "\n"


@blueprint.get("/metrics")
def metrics():
    if not _authorised():
        response = Response("authentification requise\n", status=401, mimetype="text/plain")
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    return Response(exposition(db(), time.time(), current_app.config["FLEET_SETTINGS"].expected_kiosk_version()),
                    mimetype="text/plain", content_type="text/plain; version=0.0.4; charset=utf-8")
