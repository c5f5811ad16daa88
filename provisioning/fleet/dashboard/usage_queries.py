"""Usage figures and the yearly report, read from the per-commune daily counters (never raw records)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import sqlalchemy as sa

from kiosk.protocol import SESSION_LENGTH_BUCKETS
from provisioning.fleet.dashboard.figures import FigureTable
from provisioning.fleet.store.staff_schema import LIFECYCLE_STATES, machine_assets
from provisioning.fleet.store.staff_schema import usage_commune_daily, usage_commune_monthly, usage_fleet_daily
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


def whole_months(start: str, end: str, today: str) -> tuple[list[str], list[tuple[str, str]]]:
    """Split the days ``start``..``end`` into the calendar months they cover whole (read from the monthly
    counters) and the ranges of days left at either edge (read from the daily ones). A period that runs
    to today or beyond covers the current month "to date": its monthly counters are what has been
    recorded so far (a kiosk ahead of UTC may already have counted the first minutes of tomorrow)."""
    first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    months, edges = [], []
    cursor = first
    while cursor <= last:
        month_start = cursor.replace(day=1)
        month_end = (month_start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
        upto = min(month_end, last)
        if cursor == month_start and (upto == month_end or end >= today):
            months.append(month_start.isoformat()[:7])
        else:
            edges.append((cursor.isoformat(), upto.isoformat()))
        cursor = upto + dt.timedelta(days=1)
    return months, edges


def by_commune(conn, start, end, commune, limit: int | None = None) -> FigureTable:
    """Sessions and prints per commune over the period, from the monthly counters for the whole months
    and the daily ones for the edges; with ``limit``, the communes with the most sessions only. Summed
    and ranked by the database: one row per commune comes back, and only ``limit`` (+ 1) of them."""
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    months, edges = whole_months(start, end, today)
    wanted = ("sessions", "pages_printed")
    parts = []
    if months:
        table = usage_commune_monthly
        parts.append(sa.select(table.c.commune_insee, table.c.metric, table.c.count).where(
            table.c.metric.in_(wanted), table.c.month.in_(months)))
    for low, high in edges:
        table = usage_commune_daily
        parts.append(sa.select(table.c.commune_insee, table.c.metric, table.c.count).where(
            table.c.metric.in_(wanted), table.c.day >= low, table.c.day <= high))
    if commune:
        parts = [part.where(part.selected_columns[0] == commune) for part in parts]
    ranked: list[tuple[str, int, int]] = []
    if parts:
        counts = (parts[0] if len(parts) == 1 else sa.union_all(*parts)).subquery()
        sessions = sa.func.sum(sa.case((counts.c.metric == "sessions", counts.c.count), else_=0))
        printed = sa.func.sum(sa.case((counts.c.metric == "pages_printed", counts.c.count), else_=0))
        statement = sa.select(counts.c.commune_insee, sessions, printed).group_by(counts.c.commune_insee).order_by(
            sessions.desc(), counts.c.commune_insee)
        if limit is not None:
            statement = statement.limit(limit + 1)  # one more: says whether some were left out
        ranked = [(insee, int(now or 0), int(pages or 0)) for insee, now, pages in conn.execute(statement)]
    cut = limit is not None and len(ranked) > limit
    if cut:
        ranked = ranked[:limit]
    names = dict(conn.execute(sa.select(communes.c.insee, communes.c.name).where(
        communes.c.insee.in_([insee for insee, _, _ in ranked]))).all()) if ranked else {}
    rows = sorted(([insee, names.get(insee, insee), now, pages] for insee, now, pages in ranked), key=lambda row: row[1])
    title = f"Sessions par commune (les {limit} communes les plus actives ; toutes dans l'export CSV)" if cut \
        else "Sessions par commune"
    return FigureTable("sessions-par-commune", title,
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


def _communes_served(conn, months: list[str], commune: str | None) -> int:
    """Communes with at least one session in these whole months, from their monthly counters (communes ×
    months rows; a month's count is positive when one of its days is)."""
    monthly = usage_commune_monthly
    statement = sa.select(sa.func.count(sa.distinct(monthly.c.commune_insee))).where(
        monthly.c.metric == "sessions", monthly.c.month.in_(months), monthly.c.count > 0)
    if commune:
        statement = statement.where(monthly.c.commune_insee == commune)
    return conn.execute(statement).scalar_one()


NOT_DEPLOYED = sa.text("dash_machine_assets.lifecycle_state <> 'deployed'")  # the partial index's own text


def _lifecycle_counts(conn, commune: str | None) -> dict[str, int]:
    """Enrolled machines per stage of their life cycle (no asset row: deployed). Whole fleet: every
    machine, minus the few not deployed read from their partial index."""
    with_assets = devices.join(machine_assets, machine_assets.c.asset_tag == devices.c.asset_tag)
    if commune:
        lifecycle = sa.func.coalesce(machine_assets.c.lifecycle_state, "deployed")
        return dict(conn.execute(sa.select(lifecycle, sa.func.count()).select_from(
            devices.outerjoin(machine_assets, machine_assets.c.asset_tag == devices.c.asset_tag))
            .where(devices.c.commune_insee == commune).group_by(lifecycle)).all())
    states = dict(conn.execute(sa.select(machine_assets.c.lifecycle_state, sa.func.count()).select_from(with_assets)
                               .where(NOT_DEPLOYED).group_by(machine_assets.c.lifecycle_state)).all())
    states["deployed"] = conn.execute(sa.select(sa.func.count()).select_from(devices)).scalar_one() - sum(states.values())
    return states


def _enrolled(conn, commune: str | None, *conditions, deployed_only: bool = False) -> int:
    """Machines enrolled within a range of time (index on enrolled_at), of one commune or all; with
    ``deployed_only``, minus the few not deployed (read from their partial index, not a join per machine)."""
    where = list(conditions) + ([devices.c.commune_insee == commune] if commune else [])
    total = conn.execute(sa.select(sa.func.count()).select_from(devices).where(*where)).scalar_one()
    if not deployed_only:
        return total
    not_deployed = sa.select(machine_assets.c.asset_tag).where(NOT_DEPLOYED)
    return total - conn.execute(sa.select(sa.func.count()).select_from(devices).where(
        devices.c.asset_tag.in_(not_deployed), *where)).scalar_one()


def yearly_report(conn, year: int, commune: str | None, states: dict[str, int] | None = None,
                  months: bool = True) -> dict:
    """The year's key figures, the fleet by stage (``states``: already counted, the stages are today's
    whatever the year) and, with ``months``, the sessions month by month."""
    start, end = f"{year:04d}-01-01", f"{year:04d}-12-31"
    source = _source(commune)
    metrics = sa.select(source.c.metric, source.c.key, sa.func.sum(source.c.count)).where(
        source.c.metric.in_(("sessions", "pages_printed", "session_length"))).group_by(source.c.metric, source.c.key)
    totals: dict[str, int] = defaultdict(int)
    lengths: dict[str, int] = {}
    for metric, key, count in conn.execute(_where(metrics, source, start, end, commune)):
        if metric == "session_length":
            lengths[key] = int(count)
        else:
            totals[metric] += int(count)
    hours = round(sum(BUCKET_MINUTES[k] * v for k, v in lengths.items() if k in BUCKET_MINUTES) / 60)
    communes_served = _communes_served(conn, [f"{year:04d}-{month:02d}" for month in range(1, 13)], commune)
    year_start = dt.datetime(year, 1, 1, tzinfo=dt.timezone.utc).timestamp()
    year_end = dt.datetime(year + 1, 1, 1, tzinfo=dt.timezone.utc).timestamp()
    states = _lifecycle_counts(conn, commune) if states is None else states
    enrolled_later = _enrolled(conn, commune, devices.c.enrolled_at >= year_end, deployed_only=True)
    installed = states.get("deployed", 0) - enrolled_later
    handed_out = _enrolled(conn, commune, devices.c.enrolled_at >= year_start, devices.c.enrolled_at < year_end)
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
    if not months:
        return {"summary": summary, "lifecycle": stages, "states": states}
    monthly = sessions_by_period(conn, start, end, commune, "month")
    monthly.name, monthly.title = "rapport-sessions-par-mois", "Sessions et pages imprimées, mois par mois"
    return {"summary": summary, "lifecycle": stages, "monthly": monthly, "states": states}
