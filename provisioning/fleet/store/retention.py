"""Retention: raw health samples are kept a limited time (to within a day); roll-ups and usage counters longer."""

from __future__ import annotations

import time

from sqlalchemy import Engine, delete

from provisioning.fleet.store.readmodel import fold_usage_on, prune_usage
from provisioning.fleet.store.engine import write_transaction
from provisioning.fleet.store.schema import (
    health_batches, health_daily, health_hourly, usage_daily, usage_reports,
)
from provisioning.fleet.settings import Settings


def prune(engine: Engine, settings: Settings, now: float | None = None) -> dict[str, int]:
    """Delete what is older than each retention setting; returns the number of rows removed per table."""
    now = time.time() if now is None else now
    removed: dict[str, int] = {}
    with write_transaction(engine) as connection:
        cutoff = now - settings.raw_health_retention_days * 86400
        # A row holds one check-in's samples of one day: it goes once its newest sample is past the cutoff.
        removed["health_batches"] = connection.execute(
            delete(health_batches).where(health_batches.c.at_last < cutoff)).rowcount
        for table, days in ((health_hourly, settings.hourly_rollup_retention_days),
                            (health_daily, settings.daily_rollup_retention_days)):
            removed[table.name] = 0
            if days:
                removed[table.name] = connection.execute(
                    delete(table).where(table.c.period_start < now - days * 86400)).rowcount
        removed["usage_daily"] = removed["usage_reports"] = 0
        if settings.usage_retention_days:
            oldest_day = time.strftime("%Y-%m-%d", time.gmtime(now - settings.usage_retention_days * 86400))
            removed["usage_daily"] = connection.execute(
                delete(usage_daily).where(usage_daily.c.day < oldest_day)).rowcount
            removed["usage_reports"] = connection.execute(
                delete(usage_reports).where(usage_reports.c.day < oldest_day)).rowcount
            while fold_usage_on(connection):  # counters still in the inbox are pruned like the others
                pass
            removed.update(prune_usage(connection, oldest_day))  # the dashboard's per-commune counters
    return removed
