"""The funder's report, per commune and per year: sessions (people helped, with the k ≥ 5 rule), printed
pages, service categories, availability of each point, and the comparison with the previous year.

Read from the per-commune monthly counters (kept by the check-in) and the per-commune monthly
availability (kept by ``fleet suivi``): communes × 12 months per statement, never machines × days.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict

import sqlalchemy as sa

from provisioning.fleet.dashboard.figures import FigureTable
from provisioning.fleet.store.followup_schema import availability_monthly
from provisioning.fleet.store.schema import communes, devices
from provisioning.fleet.store.staff_schema import usage_commune_monthly as usage, usage_fleet_daily as fleet

def _months(year: int) -> list[str]:
    return [f"{year:04d}-{month:02d}" for month in range(1, 13)]


def _per_commune(conn, year: int, commune: str | None, only: list[str] | None = None) -> dict[tuple[str, str, str], int]:
    """(commune, metric, year) → total of sessions and printed pages over ``year`` and the year before,
    from the monthly counters (communes × 24 months, one statement); ``only`` these communes when given."""
    wanted_year = sa.func.substr(usage.c.month, 1, 4)
    statement = sa.select(usage.c.commune_insee, usage.c.metric, wanted_year, sa.func.sum(usage.c.count)).where(
        usage.c.metric.in_(("sessions", "pages_printed")), usage.c.month.in_(_months(year - 1) + _months(year))
    ).group_by(usage.c.commune_insee, usage.c.metric, wanted_year)
    if commune:
        statement = statement.where(usage.c.commune_insee == commune)
    if only is not None:
        statement = statement.where(usage.c.commune_insee.in_(only))
    return {(insee, metric, period): int(total) for insee, metric, period, total in conn.execute(statement)}


def availability(conn, year: int, commune: str | None, only: list[str] | None = None) -> dict[str, tuple[int, int]]:
    """Commune → (machine-days available, machine-days recorded) over the year, from the monthly sums
    ``fleet suivi`` keeps with the daily statuses; ``only`` these communes when given."""
    table = availability_monthly
    statement = sa.select(table.c.commune_insee, sa.func.sum(table.c.available), sa.func.sum(table.c.recorded)).where(
        table.c.month.in_(_months(year))).group_by(table.c.commune_insee)
    if commune:
        statement = statement.where(table.c.commune_insee == commune)
    if only is not None:
        statement = statement.where(table.c.commune_insee.in_(only))
    return {insee: (int(up or 0), int(total)) for insee, up, total in conn.execute(statement) if total}


def _evolution(now: int, before: int) -> float | None:
    """Change from the previous year, in percent (None when there was nothing to compare with)."""
    return None if before <= 0 else round(100 * (now - before) / before, 1)


def by_commune(conn, year: int, commune: str | None, only: list[str] | None = None) -> FigureTable:
    """One row per commune with machines or activity: sessions this year and last, printed pages,
    availability; ``only`` these communes when given. Session and page counts under 5 are written
    « < 5 » (they could point to a person)."""
    totals = _per_commune(conn, year, commune, only)
    sessions, before, printed = ({insee: count for (insee, metric, period), count in totals.items()
                                  if metric == wanted_metric and period == f"{wanted_year:04d}"}
                                 for wanted_metric, wanted_year in (("sessions", year), ("sessions", year - 1),
                                                                    ("pages_printed", year)))
    up = availability(conn, year, commune, only)
    machines = sa.select(devices.c.commune_insee, sa.func.count()).group_by(devices.c.commune_insee)
    named = sa.select(communes.c.insee, communes.c.name)  # the whole fleet: every commune, no list of codes
    if commune:
        machines = machines.where(devices.c.commune_insee == commune)
        named = named.where(communes.c.insee == commune)
    if only is not None:
        machines = machines.where(devices.c.commune_insee.in_(only))
        named = named.where(communes.c.insee.in_(only))
    machine_counts = dict(conn.execute(machines).all())
    insees = set(sessions) | set(before) | set(machine_counts)
    names = dict(conn.execute(named).all())
    rows = []
    for insee in sorted(insees, key=lambda code: (names.get(code, code), code)):
        now, then = sessions.get(insee, 0), before.get(insee, 0)
        available, recorded = up.get(insee, (0, 0))
        hidden = now < 5 or then < 5  # a change computed from a hidden count would reveal it
        rows.append([names.get(insee, insee), insee, int(machine_counts.get(insee, 0)), now, then,
                     None if hidden else _evolution(now, then), printed.get(insee, 0),
                     round(100 * available / recorded, 1) if recorded else None])
    return FigureTable("rapport-par-commune", f"Chaque commune en {year}",
                       ["Commune", "Code INSEE", "Ordinateurs", f"Sessions {year}", f"Sessions {year - 1}",
                        "Évolution (%)", "Pages imprimées", "Disponibilité (%)"],
                       rows, frozenset({3, 4, 6}))


def most_active(table: FigureTable, limit: int) -> FigureTable:
    """The page's copy of :func:`by_commune`: the ``limit`` communes with the most sessions this year, still
    in name order (the CSV export and the PDF have them all)."""
    if len(table.rows) <= limit:
        return table
    kept = {id(row) for row in sorted(table.rows, key=lambda row: (-row[3], row[1]))[:limit]}
    return dataclasses.replace(
        table, title=f"{table.title} (les {limit} communes les plus actives ; toutes dans l'export CSV)",
        rows=[row for row in table.rows if id(row) in kept])


def most_active_by_commune(conn, year: int, commune: str | None, limit: int) -> FigureTable:
    """:func:`most_active` of :func:`by_commune`, at the cost of ``limit`` communes, whatever the fleet's size:
    the database ranks the communes by this year's sessions and only the first ``limit`` are read in full.
    A fleet where fewer than ``limit`` communes had sessions is read whole (then it is small, and
    communes with machines but no session yet have their place in the table)."""
    if commune:
        return by_commune(conn, year, commune)
    total = sa.func.sum(usage.c.count)
    ranked = sa.select(usage.c.commune_insee).where(
        usage.c.metric == "sessions", usage.c.month.in_(_months(year))
    ).group_by(usage.c.commune_insee).order_by(total.desc(), usage.c.commune_insee).limit(limit + 1)
    leaders = [insee for (insee,) in conn.execute(ranked)]
    if len(leaders) <= limit:
        return most_active(by_commune(conn, year, None), limit)
    table = by_commune(conn, year, None, only=leaders[:limit])
    return dataclasses.replace(
        table, title=f"{table.title} (les {limit} communes les plus actives ; toutes dans l'export CSV)")


def by_category(conn, year: int, commune: str | None, categories: dict[str, str], other: str) -> FigureTable:
    """Services opened, summed per category of the national catalog, this year and last."""
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for index, wanted in enumerate((year, year - 1)):
        if commune:  # the commune's monthly counters
            statement = sa.select(usage.c.key, sa.func.sum(usage.c.count)).where(
                usage.c.metric == "tile_opened", usage.c.month.in_(_months(wanted)),
                usage.c.commune_insee == commune).group_by(usage.c.key)
        else:  # the fleet's daily counters: a few rows a day, whatever the number of communes
            statement = sa.select(fleet.c.key, sa.func.sum(fleet.c.count)).where(
                fleet.c.metric == "tile_opened", fleet.c.day >= f"{wanted:04d}-01-01",
                fleet.c.day <= f"{wanted:04d}-12-31").group_by(fleet.c.key)
        for key, count in conn.execute(statement):
            totals[categories.get(key, other)][index] += int(count)
    rows = sorted(([name, now, then] for name, (now, then) in totals.items()), key=lambda row: (-row[1], row[0]))
    return FigureTable("rapport-par-categorie", f"Services ouverts par catégorie en {year}",
                       ["Catégorie de service", f"Ouvertures {year}", f"Ouvertures {year - 1}"], rows,
                       frozenset({1, 2}))


def comparison(current: FigureTable, previous: FigureTable) -> FigureTable:
    """The year's key figures beside the previous year's (same rows as the yearly summary)."""
    rows = []
    for (label, now), (_same, then) in zip(current.rows, previous.rows):
        rows.append([label, now, then])
    return FigureTable("rapport-comparaison", "Comparaison avec l'année précédente",
                       ["Indicateur", current.title[-4:], previous.title[-4:]], rows, frozenset({1, 2}),
                       count_rows=current.count_rows)
