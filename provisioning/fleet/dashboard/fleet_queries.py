"""Queries for the fleet overview and the machine page: a few indexed statements each, no N+1."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from provisioning.fleet.dashboard import attention_queries as attention
from provisioning.fleet.dashboard.status import FLAGS, STATUSES, flag_conditions, status_expression
from provisioning.fleet.store.staff_schema import commune_moves, commune_places
from provisioning.fleet.store.staff_schema import machine_assets as assets
from provisioning.fleet.store.schema import communes, devices, health_daily, inventory_reports, usage_daily
from provisioning.fleet.dashboard.usage_queries import unindexed

PAGE_SIZE = 50


@dataclass(frozen=True)
class OverviewFilters:
    query: str = ""
    commune: str | None = None
    status: str | None = None
    flag: str | None = None
    lifecycle: str | None = "deployed"
    page: int = 1


def _scoped(statement, allowed_commune: str | None):
    if allowed_commune is not None:
        statement = statement.where(devices.c.commune_insee == allowed_commune)
    return statement


def _flag_conditions(rules: attention.Rules) -> dict:
    """The health flags; "outdated" only for versions older than the expected one (issue 16)."""
    return dict(flag_conditions(""), outdated=rules.outdated)


def _filtered(statement, filters: OverviewFilters, rules: attention.Rules, with_status: bool = True):
    if filters.query:
        like = f"%{filters.query.lower()}%"
        statement = statement.where(sa.or_(sa.func.lower(devices.c.asset_tag).like(like),
                                           sa.func.lower(communes.c.name).like(like),
                                           devices.c.commune_insee == filters.query))
    if filters.commune:
        statement = statement.where(devices.c.commune_insee == filters.commune)
    if filters.lifecycle:
        statement = statement.where(LIFECYCLE == filters.lifecycle)
    if filters.flag in FLAGS:
        statement = statement.where(_flag_conditions(rules)[filters.flag])
    if with_status and filters.status in STATUSES:
        statement = statement.where(rules.status == filters.status)
    return statement


def _from(conn: sa.Connection | None = None):
    """Machines with their commune and asset rows. With ``conn`` (whole-fleet counts), SQLite reads the
    machines in table order and looks their commune up, instead of walking communes then the machines'
    commune index (one random row read per machine: seconds at 100,000 machines)."""
    commune_of = devices.c.commune_insee if conn is None else unindexed(conn, devices.c.commune_insee)
    return devices.join(communes, communes.c.insee == commune_of).outerjoin(
        assets, assets.c.asset_tag == devices.c.asset_tag)


LIFECYCLE = sa.func.coalesce(assets.c.lifecycle_state, "deployed")


def _whole_fleet(filters: OverviewFilters, allowed_commune: str | None) -> bool:
    """The overview as staff first see it (all communes, deployed or every machine, no search): read
    through the severity groups' indexes. Any narrower view is a handful of machines filtered by SQL."""
    return (allowed_commune is None and not filters.query and not filters.commune and filters.status is None
            and filters.flag is None and filters.lifecycle in (None, "deployed"))


def overview(conn: sa.Connection, filters: OverviewFilters, now: float, current_version: str,
             allowed_commune: str | None, page_size: int = PAGE_SIZE) -> dict:
    """One page of machines, most urgent first (then commune name, then asset tag), each with its
    ``severity`` and ``since``, with the counts per status and per flag over the whole filtered fleet."""
    rules = attention.Rules(now, attention.older_versions(conn, current_version))
    listing = sa.select(
        devices.c.asset_tag, devices.c.commune_insee, communes.c.name.label("commune_name"),
        devices.c.last_seen_at, devices.c.enrolled_at, communes.c.expected_interval_s, devices.c.kiosk_version,
        devices.c.disk_used_percent, devices.c.memory_used_percent, devices.c.temperature_max_c,
        assets.c.crashes_7d, LIFECYCLE.label("lifecycle_state"), rules.status.label("status"),
        rules.severity.label("severity")).select_from(_from())
    page = max(1, filters.page)
    if _whole_fleet(filters, allowed_commune):
        deployed_only = filters.lifecycle == "deployed"
        rows = attention.group_rows(conn, listing, rules, deployed_only, page_size, (page - 1) * page_size)
        status_counts, flag_counts = attention.fleet_counts(conn, rules, deployed_only)
    else:
        listing = _filtered(_scoped(listing, allowed_commune), filters, rules)
        rows = conn.execute(listing.order_by(rules.rank, communes.c.name, devices.c.asset_tag)
                            .limit(page_size).offset((page - 1) * page_size)).all()
        conditions = _flag_conditions(rules)
        counting = sa.select(
            *(sa.func.coalesce(sa.func.sum(sa.case((rules.status == name, 1), else_=0)), 0).label(name)
              for name in STATUSES),
            *(sa.func.coalesce(sa.func.sum(sa.case((conditions[name], 1), else_=0)), 0).label(f"flag_{name}")
              for name in FLAGS),
        ).select_from(_from(conn))
        counting = _filtered(_scoped(counting, allowed_commune), filters, rules, with_status=False)
        totals = conn.execute(counting).one()._mapping
        status_counts = {name: int(totals[name]) for name in STATUSES}
        flag_counts = {name: int(totals[f"flag_{name}"]) for name in FLAGS}
    matching = status_counts[filters.status] if filters.status in STATUSES else sum(status_counts.values())
    return {"rows": attention.with_since(rows), "status_counts": status_counts, "flag_counts": flag_counts,
            "total": sum(status_counts.values()), "matching": matching, "page": page,
            "pages": max(1, -(-matching // page_size))}


def commune_choices(conn: sa.Connection, allowed_commune: str | None) -> list[sa.Row]:
    statement = sa.select(communes.c.insee, communes.c.name).order_by(communes.c.name)
    if allowed_commune is not None:
        statement = statement.where(communes.c.insee == allowed_commune)
    return conn.execute(statement).all()


def machine(conn: sa.Connection, asset_tag: str, now: float) -> sa.Row | None:
    statement = sa.select(
        devices.c.id, devices.c.asset_tag, devices.c.commune_insee, devices.c.enrolled_at, devices.c.last_seen_at,
        devices.c.kiosk_version, devices.c.rotate_requested_at, communes.c.name.label("commune_name"),
        communes.c.expected_interval_s, LIFECYCLE.label("lifecycle_state"), assets.c.donor, assets.c.intake_date,
        assets.c.erasure_certificate, devices.c.disk_used_percent, devices.c.memory_used_percent,
        devices.c.temperature_max_c, devices.c.uptime_s, assets.c.crashes_7d, devices.c.health_at,
        status_expression(now).label("status")).select_from(_from())
    return conn.execute(statement.where(devices.c.asset_tag == asset_tag)).first()


def latest_inventory(conn: sa.Connection, device_id: int) -> sa.Row | None:
    return conn.execute(sa.select(inventory_reports).where(inventory_reports.c.device_id == device_id)
                        .order_by(inventory_reports.c.seq.desc()).limit(1)).first()


def machine_history(conn: sa.Connection, device_id: int, since: float) -> list[sa.Row]:
    """Daily health roll-ups of one machine since ``since`` (POSIX seconds)."""
    return conn.execute(sa.select(health_daily).where(
        health_daily.c.device_id == device_id, health_daily.c.period_start >= since)
        .order_by(health_daily.c.period_start)).all()


def machine_restarts(conn: sa.Connection, device_id: int, since_day: str) -> dict[str, int]:
    """Kiosk starts per day, from the store's per-device usage counters."""
    return dict(conn.execute(sa.select(usage_daily.c.day, sa.func.sum(usage_daily.c.count)).where(
        usage_daily.c.device_id == device_id, usage_daily.c.metric == "kiosk_started",
        usage_daily.c.day >= since_day).group_by(usage_daily.c.day)).all())


def machine_moves(conn: sa.Connection, asset_tag: str) -> list[sa.Row]:
    return conn.execute(sa.select(commune_moves).where(commune_moves.c.asset_tag == asset_tag)
                        .order_by(commune_moves.c.at.desc()).limit(50)).all()


def token_counts(conn: sa.Connection, device_id: int) -> int:
    from provisioning.fleet.store.schema import device_tokens
    return conn.execute(sa.select(sa.func.count()).where(
        device_tokens.c.device_id == device_id, device_tokens.c.revoked_at.is_(None))).scalar_one()


def machines_with_inventory(conn: sa.Connection, allowed_commune: str | None, asset_tag: str | None = None):
    """Every machine (or one) with its latest inventory report, in one statement (for the GLPI export)."""
    newest = sa.select(inventory_reports.c.device_id, sa.func.max(inventory_reports.c.seq).label("seq")).group_by(
        inventory_reports.c.device_id).subquery()
    statement = sa.select(
        devices.c.asset_tag, devices.c.commune_insee, devices.c.kiosk_version, devices.c.last_seen_at,
        communes.c.name.label("commune_name"), inventory_reports).select_from(
        devices.join(communes, communes.c.insee == devices.c.commune_insee)
        .outerjoin(newest, newest.c.device_id == devices.c.id)
        .outerjoin(inventory_reports, sa.and_(inventory_reports.c.device_id == newest.c.device_id,
                                              inventory_reports.c.seq == newest.c.seq)))
    statement = _scoped(statement, allowed_commune)
    if asset_tag is not None:
        statement = statement.where(devices.c.asset_tag == asset_tag)
    return conn.execute(statement.order_by(devices.c.asset_tag))


def places(conn: sa.Connection, allowed_commune: str | None) -> list[sa.Row]:
    """Communes with their town-hall point details and their number of machines."""
    machine_count = sa.select(sa.func.count()).where(devices.c.commune_insee == communes.c.insee).scalar_subquery()
    statement = sa.select(communes.c.insee, communes.c.name, communes.c.expected_interval_s, commune_places.c.postal_code,
                          commune_places.c.address, commune_places.c.siret, commune_places.c.opening_hours,
                          commune_places.c.updated_at, commune_places.c.phone, commune_places.c.email,
                          machine_count.label("machines")).select_from(
        communes.outerjoin(commune_places, commune_places.c.insee == communes.c.insee))
    if allowed_commune is not None:
        statement = statement.where(communes.c.insee == allowed_commune)
    return conn.execute(statement.order_by(communes.c.name)).all()


ASSET_PAGE_SIZE = 100


def asset_register_rows(conn: sa.Connection, allowed_commune: str | None, lifecycle: str | None, page: int,
           page_size: int = ASSET_PAGE_SIZE) -> tuple[list[sa.Row], int]:
    """The asset register: every recorded machine, enrolled or not (a commune sees its enrolled ones)."""
    source = assets.outerjoin(devices, devices.c.asset_tag == assets.c.asset_tag).outerjoin(
        communes, communes.c.insee == devices.c.commune_insee)
    conditions = []
    if allowed_commune is not None:
        conditions.append(devices.c.commune_insee == allowed_commune)
    if lifecycle:
        conditions.append(assets.c.lifecycle_state == lifecycle)
    total = conn.execute(sa.select(sa.func.count()).select_from(source).where(*conditions)).scalar_one()
    rows = conn.execute(sa.select(
        assets.c.asset_tag, assets.c.lifecycle_state, assets.c.donor, assets.c.intake_date,
        assets.c.erasure_certificate, devices.c.commune_insee, communes.c.name.label("commune_name"))
        .select_from(source).where(*conditions).order_by(assets.c.asset_tag)
        .limit(page_size).offset((max(1, page) - 1) * page_size)).all()
    return rows, total
