"""The funder's report, per commune and per year: sessions (people helped, with the k ≥ 5 rule), printed
pages, service categories, availability of each point, and the comparison with the previous year.

Read from the per-commune daily counters and the machines' daily status (``fleet suivi``): a few grouped
statements whatever the fleet size, never the raw records.
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa

from provisioning.fleet.dashboard.figures import FigureTable
from provisioning.fleet.store.followup_schema import machine_status_days
from provisioning.fleet.store.schema import communes, devices
from provisioning.fleet.store.staff_schema import usage_commune_daily as usage

AVAILABLE = ("online", "late")  # a point that answered within its profile that day


def _year_bounds(year: int) -> tuple[str, str]:
    return f"{year:04d}-01-01", f"{year:04d}-12-31"


def _per_commune(conn, metric: str, year: int, commune: str | None) -> dict[str, int]:
    start, end = _year_bounds(year)
    statement = sa.select(usage.c.commune_insee, sa.func.sum(usage.c.count)).where(
        usage.c.metric == metric, usage.c.day >= start, usage.c.day <= end).group_by(usage.c.commune_insee)
    if commune:
        statement = statement.where(usage.c.commune_insee == commune)
    return {insee: int(total) for insee, total in conn.execute(statement)}


def availability(conn, year: int, commune: str | None) -> dict[str, tuple[int, int]]:
    """Commune → (machine-days available, machine-days recorded) over the year."""
    start, end = _year_bounds(year)
    available = sa.func.sum(sa.case((machine_status_days.c.status.in_(AVAILABLE), 1), else_=0))
    statement = sa.select(devices.c.commune_insee, available, sa.func.count()).select_from(
        machine_status_days.join(devices, devices.c.asset_tag == machine_status_days.c.asset_tag)).where(
        machine_status_days.c.day >= start, machine_status_days.c.day <= end).group_by(devices.c.commune_insee)
    if commune:
        statement = statement.where(devices.c.commune_insee == commune)
    return {insee: (int(up or 0), int(total)) for insee, up, total in conn.execute(statement)}


def _evolution(now: int, before: int) -> float | None:
    """Change from the previous year, in percent (None when there was nothing to compare with)."""
    return None if before <= 0 else round(100 * (now - before) / before, 1)


def by_commune(conn, year: int, commune: str | None) -> FigureTable:
    """One row per commune with machines or activity: sessions this year and last, printed pages,
    availability. Session and page counts under 5 are written « < 5 » (they could point to a person)."""
    sessions, before = _per_commune(conn, "sessions", year, commune), _per_commune(conn, "sessions", year - 1, commune)
    printed = _per_commune(conn, "pages_printed", year, commune)
    up = availability(conn, year, commune)
    machines = sa.select(devices.c.commune_insee, sa.func.count()).group_by(devices.c.commune_insee)
    if commune:
        machines = machines.where(devices.c.commune_insee == commune)
    machine_counts = dict(conn.execute(machines).all())
    insees = set(sessions) | set(before) | set(machine_counts)
    names = dict(conn.execute(sa.select(communes.c.insee, communes.c.name).where(communes.c.insee.in_(sorted(insees)))).all()) \
        if insees else {}
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


def by_category(conn, year: int, commune: str | None, categories: dict[str, str], other: str) -> FigureTable:
    """Services opened, summed per category of the national catalog, this year and last."""
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for index, wanted in enumerate((year, year - 1)):
        start, end = _year_bounds(wanted)
        statement = sa.select(usage.c.key, sa.func.sum(usage.c.count)).where(
            usage.c.metric == "tile_opened", usage.c.day >= start, usage.c.day <= end).group_by(usage.c.key)
        if commune:
            statement = statement.where(usage.c.commune_insee == commune)
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
