"""Usage figures and the yearly report, read from the per-commune daily counters (never raw records)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import sqlalchemy as sa

from kiosk.protocol import SESSION_LENGTH_BUCKETS
from provisioning.fleet.dashboard.figures import FigureTable
from provisioning.fleet.store.staff_schema import LIFECYCLE_STATES, machine_assets
from provisioning.fleet.store.staff_schema import usage_commune_daily, usage_fleet_daily
from provisioning.fleet.store.schema import communes, devices

GRANULARITIES = {"day": "jour", "week": "semaine", "month": "mois"}
BUCKET_LABELS = {"lt5m": "moins de 5 min", "5-15m": "5 à 15 min", "15-30m": "15 à 30 min",
                 "30-60m": "30 min à 1 h", "ge60m": "1 h et plus"}
# Middle of each bucket, in minutes, to estimate hours of use (the exact lengths are never collected).
BUCKET_MINUTES = {"lt5m": 2.5, "5-15m": 10, "15-30m": 22.5, "30-60m": 45, "ge60m": 75}
LIFECYCLE_LABELS = {"donated": "Donnée", "refurbished": "Reconditionnée", "deployed": "Installée",
                    "returned": "Revenue", "recycled": "Recyclée"}


def _source(commune: str | None) -> sa.Table:
    """One commune's counters, or the fleet-wide ones (a few rows per day, whatever the fleet size)."""
    return usage_commune_daily if commune else usage_fleet_daily


def _where(statement, table: sa.Table, start: str, end: str, commune: str | None):
    statement = statement.where(table.c.day >= start, table.c.day <= end)
    return statement.where(table.c.commune_insee == commune) if commune else statement


def period_of(day: str, granularity: str) -> str:
    if granularity == "month":
        return day[:7]
    if granularity == "week":
        year, week, _ = dt.date.fromisoformat(day).isocalendar()
        return f"{year}-S{week:02d}"
    return day


def sessions_by_period(conn, start, end, commune, granularity) -> FigureTable:
    table = _source(commune)
    statement = sa.select(table.c.day, table.c.metric, sa.func.sum(table.c.count)).where(
        table.c.metric.in_(("sessions", "pages_printed"))).group_by(table.c.day, table.c.metric)
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for day, metric, count in conn.execute(_where(statement, table, start, end, commune)):
        totals[period_of(day, granularity)][0 if metric == "sessions" else 1] += int(count)
    label = GRANULARITIES[granularity].capitalize()
    return FigureTable(f"sessions-par-{GRANULARITIES[granularity]}", f"Sessions par {GRANULARITIES[granularity]}",
                       [label, "Sessions", "Pages imprimées"],
                       [[period, *counts] for period, counts in sorted(totals.items())], frozenset({1, 2}))


def unindexed(conn, column):
    """``+column`` on SQLite: keeps the planner from walking an index in the GROUP BY or join order and
    looking every row up from it (seconds at 100,000 machines and 3,000 communes); a range scan of the
    primary key and a small sort are several times cheaper. The column itself on other databases."""
    if conn.dialect.name != "sqlite":
        return column
    return sa.literal_column(f"+{column.table.name}.{column.name}", type_=column.type)


def by_commune(conn, start, end, commune) -> FigureTable:
    table = usage_commune_daily
    sessions = sa.func.sum(sa.case((table.c.metric == "sessions", table.c.count), else_=0))
    printed = sa.func.sum(sa.case((table.c.metric == "pages_printed", table.c.count), else_=0))
    insee = unindexed(conn, table.c.commune_insee)
    statement = sa.select(insee, sessions, printed).where(
        table.c.metric.in_(("sessions", "pages_printed"))).group_by(insee)
    totals = conn.execute(_where(statement, table, start, end, commune)).all()
    names = dict(conn.execute(sa.select(communes.c.insee, communes.c.name).where(
        communes.c.insee.in_([row[0] for row in totals]))).all()) if totals else {}
    rows = sorted(([insee, names.get(insee, insee), s, p] for insee, s, p in totals), key=lambda row: row[1])
    return FigureTable("sessions-par-commune", "Sessions par commune",
                       ["Code INSEE", "Commune", "Sessions", "Pages imprimées"], rows, frozenset({2, 3}))


def _keyed(conn, metric, start, end, commune) -> dict[str, int]:
    table = _source(commune)
    statement = sa.select(table.c.key, sa.func.sum(table.c.count)).where(
        table.c.metric == metric).group_by(table.c.key)
    return {key: int(count) for key, count in conn.execute(_where(statement, table, start, end, commune))}


def by_tile(conn, start, end, commune, tile_labels: dict[str, str]) -> FigureTable:
    counts = _keyed(conn, "tile_opened", start, end, commune)
    rows = sorted(([key, tile_labels.get(key, key), count] for key, count in counts.items()), key=lambda r: -r[2])
    return FigureTable("ouvertures-par-tuile", "Services ouverts (par tuile)",
                       ["Tuile", "Service", "Ouvertures"], rows, frozenset({2}))


def session_lengths(conn, start, end, commune) -> FigureTable:
    counts = _keyed(conn, "session_length", start, end, commune)
    return FigureTable("durees-de-session", "Durée des sessions", ["Durée", "Sessions"],
                       [[BUCKET_LABELS[b], counts.get(b, 0)] for b in SESSION_LENGTH_BUCKETS], frozenset({1}))


def yearly_report(conn, year: int, commune: str | None) -> dict:
    start, end = f"{year:04d}-01-01", f"{year:04d}-12-31"
    source = _source(commune)
    metrics = sa.select(source.c.metric, sa.func.sum(source.c.count)).where(
        source.c.metric.in_(("sessions", "pages_printed"))).group_by(source.c.metric)
    totals = {metric: int(count) for metric, count in conn.execute(_where(metrics, source, start, end, commune))}
    lengths = _keyed(conn, "session_length", start, end, commune)
    hours = round(sum(BUCKET_MINUTES[k] * v for k, v in lengths.items() if k in BUCKET_MINUTES) / 60)
    served = sa.select(sa.func.count(sa.distinct(usage_commune_daily.c.commune_insee))).where(
        usage_commune_daily.c.metric == "sessions", usage_commune_daily.c.count > 0)
    communes_served = conn.execute(_where(served, usage_commune_daily, start, end, commune)).scalar_one()

    year_start = dt.datetime(year, 1, 1, tzinfo=dt.timezone.utc).timestamp()
    year_end = dt.datetime(year + 1, 1, 1, tzinfo=dt.timezone.utc).timestamp()
    in_scope = [devices.c.commune_insee == commune] if commune else []
    lifecycle = sa.func.coalesce(machine_assets.c.lifecycle_state, "deployed")
    fleet = devices.outerjoin(machine_assets, machine_assets.c.asset_tag == devices.c.asset_tag)
    installed = conn.execute(sa.select(sa.func.count()).select_from(fleet).where(
        lifecycle == "deployed", devices.c.enrolled_at < year_end, *in_scope)).scalar_one()
    handed_out = conn.execute(sa.select(sa.func.count()).select_from(devices).where(
        devices.c.enrolled_at >= year_start, devices.c.enrolled_at < year_end, *in_scope)).scalar_one()
    states = dict(conn.execute(sa.select(lifecycle, sa.func.count()).select_from(fleet).where(*in_scope)
                               .group_by(lifecycle)).all())
    summary = FigureTable("rapport-annuel", f"Chiffres de l'année {year}", ["Indicateur", "Valeur"], [
        ["Ordinateurs installés dans les mairies", installed],
        ["Communes servies", communes_served],
        ["Sessions", totals.get("sessions", 0)],
        ["Heures d'utilisation (estimation)", hours],
        ["Pages imprimées", totals.get("pages_printed", 0)],
        ["Ordinateurs reconditionnés remis dans l'année", handed_out],
    ], frozenset({1}), count_rows=frozenset({2, 3, 4}))  # machines and communes are not about residents
    stages = FigureTable("parc-par-etape", "Le parc par étape du cycle de vie", ["Étape", "Ordinateurs"],
                            [[LIFECYCLE_LABELS[s], states.get(s, 0)] for s in LIFECYCLE_STATES])
    monthly = sessions_by_period(conn, start, end, commune, "month")
    monthly.name, monthly.title = "rapport-sessions-par-mois", "Sessions et pages imprimées, mois par mois"
    return {"summary": summary, "lifecycle": stages, "monthly": monthly}
