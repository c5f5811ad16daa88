"""A readable difference between two versions of a commune's configuration bundle (issue 12), for the
version history: which field changed, old → new, in French (« Horaires d'ouverture › lundi :
09:00-12:00 → 09:00-12:00, 14:00-17:00 »).

The bundle's ``site`` is flattened into fields (nested keys joined with « › », each key said in French);
a list of plain values is one field (its items joined); the bus calendar and the tiles are compared item by
item (a visit or a tile added or removed, a custom tile's field changed), so a new bus visit reads as
one line, not as every later visit shifted by one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import Connection

from provisioning.fleet.dashboard.french import day
from provisioning.fleet.store.management_schema import bundles

ABSENT = "—"
WORDS = {
    "commune": "commune", "name": "nom", "insee": "code INSEE", "postal_code": "code postal", "address": "adresse",
    "opening_hours": "horaires d'ouverture", "help": "aide", "mediator": "médiateur", "phone": "téléphone",
    "hours": "horaires", "bus_visits": "passages du bus", "france_services": "France services",
    "printed_guides": "guides imprimés", "featured": "services à la une", "tiles": "tuiles", "idle": "mise en veille",
    "warning_after_s": "avertissement après (secondes)", "answer_within_s": "délai pour répondre (secondes)",
    "printer": "imprimante", "uri": "adresse de l'imprimante", "label": "titre", "description": "description",
    "category": "catégorie", "url": "adresse du site", "pictogram": "pictogramme", "pictogram_alt": "texte du pictogramme",
    "hosts": "sites permis", "service": "service", "id": "identifiant", "services": "services",
    "pictograms": "pictogrammes", "categories": "catégories", "host_groups": "groupes d'hôtes",
    "site_name": "nom du site dans les phrases",
    "mo": "lundi", "tu": "mardi", "we": "mercredi", "th": "jeudi", "fr": "vendredi", "sa": "samedi", "su": "dimanche",
}


@dataclass(frozen=True)
class Change:
    field: str
    old: str
    new: str


def _label(path: tuple[str, ...]) -> str:
    text = " › ".join(WORDS.get(part, part) for part in path)
    return text[:1].upper() + text[1:]


def _text(value) -> str:
    if value is None or value == [] or value == {}:
        return ABSENT
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, list):
        return ", ".join(_text(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{WORDS.get(key, key)} : {_text(item)}" for key, item in value.items())
    return str(value)


def _visit(visit: dict) -> str:
    try:
        when = day(visit.get("date"))
    except (TypeError, ValueError):
        when = str(visit.get("date"))
    return f"{when}, {visit.get('hours', '')}, {visit.get('place', '')}"


def _tile_key(tile) -> str:
    if isinstance(tile, dict):
        return str(tile.get("service") or tile.get("id") or _text(tile))
    return str(tile)


def _flatten(value, path: tuple[str, ...], out: dict) -> None:
    if path == ("help", "bus_visits") and isinstance(value, list):
        for visit in value:
            out[path + (_visit(visit) if isinstance(visit, dict) else str(visit),)] = "prévu"
    elif path == ("tiles",) and isinstance(value, list):
        for tile in value:
            key = _tile_key(tile)
            fields = {k: v for k, v in tile.items() if k not in ("service", "id")} if isinstance(tile, dict) else {}
            out[path + (key,)] = "montrée"
            for name, item in fields.items():
                out[path + (key, name)] = _text(item)
    elif isinstance(value, dict) and value:
        for key, item in value.items():
            _flatten(item, path + (str(key),), out)
    else:
        out[path] = _text(value)


def differences(old_site: dict, new_site: dict) -> list[Change]:
    """Every field that differs, in the order of the new configuration then the removed ones."""
    old, new = {}, {}
    _flatten(old_site or {}, (), old)
    _flatten(new_site or {}, (), new)
    changes = []
    for path in list(new) + [path for path in old if path not in new]:
        before, after = old.get(path, ABSENT), new.get(path, ABSENT)
        if before == after:
            continue
        if path[:2] == ("help", "bus_visits"):
            changes.append(Change(_label(path[:2]), path[2] if before != ABSENT else ABSENT,
                                  path[2] if after != ABSENT else ABSENT))
        elif path[:1] == ("tiles",) and len(path) == 2:
            changes.append(Change(_label(path), "montrée" if before != ABSENT else "absente",
                                  "montrée" if after != ABSENT else "absente"))
        else:
            changes.append(Change(_label(path), before, after))
    return changes


def history_changes(conn: Connection, insee: str, versions: list[int]) -> dict[int, list[Change]]:
    """For each of ``versions``, what changed since the version before it (none for version 1)."""
    if not versions:
        return {}
    wanted = set(versions) | {version - 1 for version in versions}
    rows = conn.execute(sa.select(bundles.c.version, bundles.c.content).where(
        bundles.c.commune_insee == insee, bundles.c.version.in_(sorted(wanted)))).all()
    sites = {row.version: json.loads(row.content).get("site", {}) for row in rows}
    return {version: differences(sites[version - 1], sites[version])
            for version in versions if version in sites and version - 1 in sites}
