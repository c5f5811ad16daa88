"""The national services catalog on the fleet server (issue 12): services.yaml and its pictograms,
versioned (who, when, what changed), edited by staff (a service's title, start address, allowed hosts),
rolled back, and carried in every commune's configuration bundle.

A catalog version is one JSON document ``{"catalog": <services.yaml>, "pictograms": {name: SVG text}}``
in ``mgmt_catalogs``. Publishing one publishes, in the same transaction, a new bundle version for every
commune that has a bundle (same site, the new catalog): the check-in answer's bundle version moves, and
the kiosks pull it like any other change. Before anything is stored, the catalog goes through the
kiosk's own checks — ``load_config`` on a scratch directory, the code ``kiosk check-config`` runs, so
the staff read the same French messages — and every pictogram through :func:`kiosk.config.pictograms.check_svg`;
a catalog that would break a commune's tiles (a service removed that a commune shows) is refused too.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
import yaml
from sqlalchemy import Connection, Engine

from kiosk.config.pictograms import MAX_PICTOGRAMS, PictogramRefused, check_pictogram_name, check_svg
from provisioning.fleet import management
from provisioning.fleet.management import ManagementError
from provisioning.fleet.store.engine import read_transaction, write_transaction
from provisioning.fleet.store.management_schema import bundles, catalogs

EDITABLE = ("label", "url", "hosts")
FIELD_NAMES = {"label": "titre", "url": "adresse", "hosts": "sites permis"}
# The scratch kiosk.yaml the catalog is checked with: every service shown once.
CHECK_SITE = {"commune": {"name": "Vérification du catalogue", "insee": "00000", "postal_code": "00000",
                          "address": "Catalogue national"},
              "help": {"mediator": {"name": "Vérification", "phone": "05 36 49 12 34"}}}


@dataclass(frozen=True)
class CatalogVersion:
    version: int
    summary: str
    created_at: float
    created_by: str


def read_files(services_yaml: Path, pictogram_dirs: list[Path]) -> tuple[dict, dict[str, str]]:
    """services.yaml and every ``*.svg`` of ``pictogram_dirs`` (the later directory wins on a name)."""
    catalog = yaml.safe_load(Path(services_yaml).read_text(encoding="utf-8"))
    pictograms = {}
    for directory in pictogram_dirs:
        for picture in sorted(Path(directory).glob("*.svg")):
            pictograms[picture.name] = picture.read_text(encoding="utf-8")
    return catalog, pictograms


def _pictogram_problems(pictograms) -> list[str]:
    if not isinstance(pictograms, dict):
        return ["pictogrammes : une liste de fichiers SVG est attendue"]
    if len(pictograms) > MAX_PICTOGRAMS:
        return [f"pictogrammes : {MAX_PICTOGRAMS} au plus ({len(pictograms)} donnés)"]
    problems = []
    for name, text in pictograms.items():
        try:
            check_pictogram_name(name)
            if not isinstance(text, str):
                raise PictogramRefused("pictogramme illisible")
            check_svg(text.encode("utf-8"))
        except PictogramRefused as refused:
            problems.append(f"pictogramme {str(name)[:70]} : {refused}")
    return problems


def check(catalog, pictograms, sites: dict[str, dict] | None = None) -> None:
    """Refuse (:class:`ManagementError`, French) what the kiosk would refuse, and what would break a site."""
    from kiosk.config import ConfigError, load_config
    problems = _pictogram_problems(pictograms)
    if problems:
        raise ManagementError(problems)
    services = catalog.get("services") if isinstance(catalog, dict) else None
    ids = [service.get("id") for service in services if isinstance(service, dict)] if isinstance(services, list) else []
    with tempfile.TemporaryDirectory(prefix="fleet-catalog-") as scratch:
        directory = Path(scratch)
        (directory / "pictograms").mkdir()
        for name, text in pictograms.items():
            (directory / "pictograms" / name).write_text(text, encoding="utf-8")
        (directory / "services.yaml").write_text(yaml.safe_dump(catalog, allow_unicode=True), encoding="utf-8")
        tiles = [{"service": str(service_id)} for service_id in ids if isinstance(service_id, str)] or [{"service": "x"}]
        (directory / "kiosk.yaml").write_text(yaml.safe_dump({**CHECK_SITE, "tiles": tiles}, allow_unicode=True),
                                              encoding="utf-8")
        try:
            load_config(directory)
        except ConfigError as error:
            problems = [f"{problem.field} : {problem.message}" for problem in error.problems
                        if problem.file.name == "services.yaml" or problem.field.endswith("pictogram")]
            raise ManagementError(problems or [str(error.problems[0].message)]) from None
    for insee, site in (sites or {}).items():
        for tile in site.get("tiles", []):
            if isinstance(tile, dict) and "service" in tile and tile["service"] not in ids:
                problems.append(f"commune {insee} : service « {tile['service']} » absent du catalogue, "
                                "alors que la commune le montre. Retirez-le d'abord de ses tuiles.")
    if problems:
        raise ManagementError(problems)


def latest(conn: Connection) -> tuple[int, dict] | None:
    row = conn.execute(sa.select(catalogs.c.version, catalogs.c.content)
                       .order_by(catalogs.c.version.desc()).limit(1)).first()
    return None if row is None else (row.version, json.loads(row.content))


def content_of(conn: Connection, version: int) -> dict | None:
    text = conn.execute(sa.select(catalogs.c.content).where(catalogs.c.version == version)).scalar()
    return None if text is None else json.loads(text)


def _commune_sites(conn: Connection) -> dict[str, dict]:
    newest = (sa.select(bundles.c.commune_insee, sa.func.max(bundles.c.version).label("version"))
              .group_by(bundles.c.commune_insee).subquery())
    rows = conn.execute(sa.select(bundles.c.commune_insee, bundles.c.content).join(
        newest, sa.and_(newest.c.commune_insee == bundles.c.commune_insee, newest.c.version == bundles.c.version))).all()
    return {row.commune_insee: json.loads(row.content)["site"] for row in rows}


def _publish_on(conn: Connection, catalog: dict, pictograms: dict, summary: str, by: str, now: float) -> int:
    sites = _commune_sites(conn)
    check(catalog, pictograms, sites)
    current = latest(conn)
    version = 1 if current is None else current[0] + 1
    conn.execute(catalogs.insert().values(
        version=version, summary=summary[:200], created_at=now, created_by=by[:64],
        content=json.dumps({"catalog": catalog, "pictograms": pictograms}, sort_keys=True, separators=(",", ":"),
                           ensure_ascii=False)))
    for insee, site in sites.items():  # every commune's kiosks receive it with their next check-in
        management.publish_on(conn, insee, site, f"Catalogue national : {summary}", by, now)
    return version


def publish(engine: Engine, catalog: dict, pictograms: dict[str, str], by: str, now: float,
            summary: str = "Catalogue importé") -> int:
    """Publish a whole catalog (``fleet catalog import``); the new catalog version."""
    with write_transaction(engine) as conn:
        return _publish_on(conn, catalog, pictograms, summary, by, now)


def service(engine: Engine, service_id: str) -> dict | None:
    with read_transaction(engine) as conn:
        current = latest(conn)
    if current is None:
        return None
    return next((item for item in current[1]["catalog"].get("services", []) if item.get("id") == service_id), None)


def set_service(engine: Engine, service_id: str, changes: dict, by: str, now: float) -> int:
    """Change what changes in practice for one service (``label``, ``url``, ``hosts``) and publish."""
    changes = {name: value for name, value in changes.items() if name in EDITABLE}
    with write_transaction(engine) as conn:
        current = latest(conn)
        if current is None:
            raise ManagementError(["aucun catalogue publié : importez d'abord services.yaml (fleet catalog import)"])
        document = current[1]
        services = document["catalog"].get("services", [])
        index = next((i for i, item in enumerate(services) if item.get("id") == service_id), None)
        if index is None:
            raise ManagementError([f"service « {service_id} » absent du catalogue"])
        changed = [name for name, value in changes.items() if services[index].get(name) != value]
        if not changed:
            raise ManagementError(["rien n'a changé : le service est déjà ainsi"])
        new_services = list(services)
        new_services[index] = {**services[index], **changes}
        catalog = {**document["catalog"], "services": new_services}
        words = ", ".join(FIELD_NAMES[name] for name in changed)
        return _publish_on(conn, catalog, document["pictograms"],
                           f"{services[index].get('label', service_id)} ({words})", by, now)


def rollback(engine: Engine, version: int, by: str, now: float) -> int:
    """Publish the catalog of ``version`` again, as the next version (kiosks only move forward)."""
    with write_transaction(engine) as conn:
        old = content_of(conn, version)
        if old is None:
            raise ManagementError([f"version {version} du catalogue introuvable"])
        return _publish_on(conn, old["catalog"], old["pictograms"], f"retour à la version {version}", by, now)


def history(engine: Engine, limit: int = 50) -> list[CatalogVersion]:
    with read_transaction(engine) as conn:
        rows = conn.execute(sa.select(catalogs.c.version, catalogs.c.summary, catalogs.c.created_at,
                                      catalogs.c.created_by).order_by(catalogs.c.version.desc()).limit(limit)).all()
    return [CatalogVersion(*row) for row in rows]


def comparable(document: dict) -> dict:
    """A catalog version as the readable difference compares it: services by id, pictograms by content."""
    import hashlib
    catalog = document.get("catalog", {})
    return {"services": {item.get("id"): {k: v for k, v in item.items() if k != "id"}
                         for item in catalog.get("services", []) if isinstance(item, dict)},
            "categories": catalog.get("categories"), "host_groups": catalog.get("host_groups"),
            "pictograms": {name: hashlib.sha256(text.encode()).hexdigest()[:12]
                           for name, text in document.get("pictograms", {}).items()}}
