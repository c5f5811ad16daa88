"""Central management's server side (issue 12): publish a commune's configuration bundle, edit its bus
calendar, roll back to an earlier version, tell each kiosk which version is meant for it, and record
what kiosks report (applied, refused and why).

Every change publishes a new version (``mgmt_bundles``); nothing is edited in place. What staff type is
checked with the kiosk's own models (:mod:`kiosk.config.models`), so the dashboard refuses exactly what
``kiosk check-config`` would, with the same French messages.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy import Connection, Engine

from kiosk.agent import bundles_format
from kiosk.config.messages import french_message
from kiosk.config.models import DAYS, BusVisit, OpeningHours, Site
from provisioning.fleet.store import hot_sql
from provisioning.fleet.store.engine import read_transaction, write_transaction
from provisioning.fleet.store.management_schema import REFUSAL_MAX_CHARS, bundles, bus_visits, catalogs, kiosk_bundles
from provisioning.fleet.store.schema import devices

MAX_BUS_VISITS = 60
# Read on the check-in's own driver connection after the batch is stored: one primary-key range read.
LATEST_FOR_DEVICE = """
SELECT MAX(b.version) FROM mgmt_bundles b JOIN devices d ON d.commune_insee = b.commune_insee
WHERE d.id = :device_id
"""


class ManagementError(ValueError):
    """A change refused as a whole; ``problems`` lists each one in French ("field: message")."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class BundleVersion:
    commune_insee: str
    version: int
    summary: str
    created_at: float
    created_by: str


def _problems(error: ValidationError, prefix: str = "") -> list[str]:
    problems = []
    for item in error.errors():
        where = ".".join(str(part) for part in item["loc"])
        problems.append(f"{prefix}{where} : {french_message(item)}" if where else french_message(item))
    return problems


def check_site(site: dict) -> dict:
    """``site`` checked with the kiosk's model (:class:`ManagementError` in French otherwise)."""
    try:
        Site.model_validate(site)
    except ValidationError as error:
        raise ManagementError(_problems(error)) from None
    return site


def check_bus_visits(visits: list[dict]) -> list[dict]:
    """The visits as the kiosk will read them (``date``, ``hours``, ``place``), sorted by date."""
    if len(visits) > MAX_BUS_VISITS:
        raise ManagementError([f"calendrier trop long : {MAX_BUS_VISITS} passages au plus"])
    problems, checked = [], []
    for index, visit in enumerate(visits):
        try:
            model = BusVisit.model_validate(visit)
        except ValidationError as error:
            problems.extend(_problems(error, f"passage {index + 1}, "))
            continue
        checked.append({"date": model.date.isoformat(), "hours": model.hours, "place": model.place})
    if problems:
        raise ManagementError(problems)
    return sorted(checked, key=lambda visit: (visit["date"], visit["hours"]))


def latest(conn: Connection, insee: str) -> tuple[int, dict] | None:
    row = conn.execute(sa.select(bundles.c.version, bundles.c.content)
                       .where(bundles.c.commune_insee == insee)
                       .order_by(bundles.c.version.desc()).limit(1)).first()
    return None if row is None else (row.version, json.loads(row.content))


def content_of(conn: Connection, insee: str, version: int) -> dict | None:
    text = conn.execute(sa.select(bundles.c.content).where(
        bundles.c.commune_insee == insee, bundles.c.version == version)).scalar()
    return None if text is None else json.loads(text)


def catalog_version_on(conn: Connection) -> int | None:
    """The national catalog version in force (the newest), or None before any is imported."""
    return conn.execute(sa.select(sa.func.max(catalogs.c.version))).scalar()


def publish_on(conn: Connection, insee: str, site: dict, summary: str, by: str, now: float) -> int:
    """Store the commune's next version: ``site`` with the national catalog in force (by its version)."""
    current = latest(conn, insee)
    version = 1 if current is None else current[0] + 1
    content = {"format": bundles_format.BUNDLE_FORMAT, "commune_insee": insee, "version": version, "site": site}
    catalog_version = catalog_version_on(conn)
    if catalog_version is not None:
        content["catalog_version"] = catalog_version
    conn.execute(bundles.insert().values(
        commune_insee=insee, version=version, summary=summary[:200], created_at=now, created_by=by[:64],
        content=json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)))
    return version


def publish_site(engine: Engine, insee: str, site: dict, by: str, now: float,
                 summary: str = "Configuration de la commune") -> int:
    """Publish ``site`` (the commune's kiosk.yaml part) as the commune's next version; the bus calendar
    the staff keep here replaces the one in ``site`` when there is one."""
    check_site(site)
    with write_transaction(engine) as conn:
        visits = _bus_visits_on(conn, insee)
        if visits:
            site = _with_bus_visits(site, visits)
        else:  # the first import: its calendar becomes the one the staff edit
            _replace_bus_visits(conn, insee, check_bus_visits(site.get("help", {}).get("bus_visits", [])))
        return publish_on(conn, insee, site, summary, by, now)


def _replace_bus_visits(conn: Connection, insee: str, visits: list[dict]) -> None:
    conn.execute(bus_visits.delete().where(bus_visits.c.commune_insee == insee))
    if visits:
        conn.execute(bus_visits.insert(), [{"commune_insee": insee, "day": visit["date"], "hours": visit["hours"],
                                            "place": visit["place"]} for visit in visits])


def _with_bus_visits(site: dict, visits: list[dict]) -> dict:
    return {**site, "help": {**site.get("help", {}), "bus_visits": visits}}


def _bus_visits_on(conn: Connection, insee: str) -> list[dict]:
    rows = conn.execute(sa.select(bus_visits.c.day, bus_visits.c.hours, bus_visits.c.place)
                        .where(bus_visits.c.commune_insee == insee)
                        .order_by(bus_visits.c.day, bus_visits.c.hours)).all()
    return [{"date": row.day, "hours": row.hours, "place": row.place} for row in rows]


def bus_calendar(engine: Engine, insee: str) -> list[dict]:
    with read_transaction(engine) as conn:
        return _bus_visits_on(conn, insee)


def set_bus_calendar(engine: Engine, insee: str, visits: list[dict], by: str, now: float) -> int:
    """Replace the commune's bus calendar and publish it; the new version, or :class:`ManagementError`."""
    checked = check_bus_visits(visits)
    with write_transaction(engine) as conn:
        current = latest(conn, insee)
        if current is None:
            raise ManagementError(["aucune configuration publiée pour cette commune : "
                                   "importez d'abord son kiosk.yaml (fleet bundle publish)"])
        _replace_bus_visits(conn, insee, checked)
        site = _with_bus_visits(current[1]["site"], checked)
        check_site(site)
        return publish_on(conn, insee, site, "Calendrier du bus", by, now)


def check_opening_hours(hours: dict[str, list[str]]) -> dict[str, list[str]]:
    """The opening hours checked with the kiosk's model (days mo … su, ranges HH:MM-HH:MM)."""
    try:
        model = OpeningHours.model_validate(hours)
    except ValidationError as error:
        raise ManagementError(_problems(error)) from None
    return {day: list(getattr(model, day)) for day in DAYS if getattr(model, day)}


def opening_hours(engine: Engine, insee: str) -> dict[str, list[str]] | None:
    """The opening hours in force in the commune's bundle, or None when it has no bundle yet."""
    with read_transaction(engine) as conn:
        current = latest(conn, insee)
    return None if current is None else current[1]["site"].get("opening_hours", {})


def set_opening_hours(engine: Engine, insee: str, hours: dict[str, list[str]], by: str, now: float) -> int:
    """Publish the commune's new opening hours (what a commune account may change, and nothing else)."""
    checked = check_opening_hours(hours)
    with write_transaction(engine) as conn:
        current = latest(conn, insee)
        if current is None:
            raise ManagementError(["aucune configuration publiée pour cette commune : l'équipe doit d'abord "
                                   "importer son kiosk.yaml"])
        site = {**current[1]["site"], "opening_hours": checked}
        check_site(site)
        return publish_on(conn, insee, site, "Horaires d'ouverture", by, now)


def rollback(engine: Engine, insee: str, version: int, by: str, now: float) -> int:
    """Publish the commune's settings of ``version`` again, as the next version (kiosks only move forward);
    the national catalog stays the one in force (it has its own history: :mod:`provisioning.fleet.catalog`)."""
    with write_transaction(engine) as conn:
        old = content_of(conn, insee, version)
        if old is None:
            raise ManagementError([f"version {version} introuvable pour cette commune"])
        site = old["site"]
        _replace_bus_visits(conn, insee, site.get("help", {}).get("bus_visits", []))
        return publish_on(conn, insee, site, f"Retour à la version {version}", by, now)


def history(engine: Engine, insee: str, limit: int = 50) -> list[BundleVersion]:
    with read_transaction(engine) as conn:
        rows = conn.execute(sa.select(bundles.c.commune_insee, bundles.c.version, bundles.c.summary,
                                      bundles.c.created_at, bundles.c.created_by)
                            .where(bundles.c.commune_insee == insee)
                            .order_by(bundles.c.version.desc()).limit(limit)).all()
    return [BundleVersion(*row) for row in rows]


def bundle_document(conn: Connection, content: dict) -> dict:
    """What the kiosk receives for a stored version: its content with the catalog and pictograms it names."""
    catalog_version = content.get("catalog_version")
    if catalog_version is None:
        return content
    text = conn.execute(sa.select(catalogs.c.content).where(catalogs.c.version == catalog_version)).scalar()
    catalog = json.loads(text)
    return {**content, "catalog": catalog["catalog"], "pictograms": catalog["pictograms"]}


def latest_for_device_on(dbapi_connection, dialect: str, device_id: int) -> int | None:
    """The version meant for a device, on the check-in's driver connection (left with no transaction)."""
    row = hot_sql.fetch_one_on(dbapi_connection, dialect, LATEST_FOR_DEVICE, {"device_id": device_id})
    return None if row is None or row[0] is None else int(row[0])


def device_of(conn: Connection, device_id: int) -> tuple[str, str]:
    row = conn.execute(sa.select(devices.c.asset_tag, devices.c.commune_insee)
                       .where(devices.c.id == device_id)).one()
    return row.asset_tag, row.commune_insee


def record_status(engine: Engine, device_id: int, applied: int | None, refused: int | None,
                  refusal: str | None, now: float) -> None:
    """What a kiosk reports: the version it applied (or staged), the one it refused and why."""
    with write_transaction(engine) as conn:
        asset_tag, _ = device_of(conn, device_id)
        values = {"applied_version": applied, "refused_version": refused,
                  "refusal": refusal[:REFUSAL_MAX_CHARS] if refusal else None, "reported_at": now}
        updated = conn.execute(kiosk_bundles.update().where(kiosk_bundles.c.asset_tag == asset_tag).values(**values))
        if updated.rowcount == 0:
            conn.execute(kiosk_bundles.insert().values(asset_tag=asset_tag, **values))


REFUSAL_WORDS = (
    ("bad signature", "signature invalide : le paquet n'a pas été signé par la clé du parc, ou il est arrivé "
                      "abîmé ou incomplet"),
    ("without a signature", "paquet reçu sans signature"),
    ("public key", "la clé publique du parc est absente ou illisible sur la borne"),
    ("invalid configuration", "la vérification de la borne (la même que kiosk check-config) a refusé la configuration"),
    ("truncated", "paquet incomplet"),
    ("unreadable", "paquet illisible"),
    ("too large", "paquet trop gros"),
    ("commune", "paquet d'une autre commune"),
)


def refusal_text(reason: str | None) -> str:
    """The kiosk's refusal reason (English, technical) said in French for the machine's page."""
    for words, text in REFUSAL_WORDS:
        if reason and words in reason:
            return text
    return "motif non reconnu (voir le détail technique)"


def status_on(conn: Connection, asset_tag: str) -> dict | None:
    """What the kiosk last reported about its bundle (applied, refused and why), or None."""
    row = conn.execute(sa.select(kiosk_bundles).where(kiosk_bundles.c.asset_tag == asset_tag)).first()
    return None if row is None else dict(row._mapping)


def status_of(engine: Engine, asset_tag: str) -> dict | None:
    with read_transaction(engine) as conn:
        return status_on(conn, asset_tag)
