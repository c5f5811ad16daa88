"""The town-hall points in the national places-of-digital-mediation standard (LaMednum's
standard-mediation-num, a Frictionless table schema), as a comma-separated UTF-8 CSV (through the one
CSV writer, exports/csvfile.py, that neutralises formulas: this file goes to third parties)."""

from __future__ import annotations

import datetime as dt

from provisioning.fleet.exports.csvfile import write_csv

FIELDS = (  # every field of the standard, in its order (v1.0.2)
    "id", "pivot", "nom", "commune", "code_postal", "code_insee", "adresse", "complement_adresse",
    "latitude", "longitude", "typologie", "telephone", "courriels", "site_web", "horaires",
    "presentation_resume", "presentation_detail", "source", "itinerance", "structure_parente", "date_maj",
    "services", "publics_specifiquement_adresses", "prise_en_charge_specifique", "frais_a_charge",
    "dispositif_programmes_nationaux", "formations_labels", "autres_formations_labels", "modalites_acces",
    "modalites_accompagnement", "fiche_acces_libre", "prise_rdv",
)
SERVICES = "Aide aux démarches administratives|Accès internet et matériel informatique"


class IncompletePlace(ValueError):
    """A commune lacks a field the standard requires (named in French)."""


def place_row(place, source: str) -> dict[str, str]:
    missing = [label for label, value in (("SIRET", place.siret), ("code postal", place.postal_code),
                                          ("adresse", place.address)) if not value]
    if missing:
        raise IncompletePlace(f"{place.name} ({place.insee}) : il manque {', '.join(missing)}")
    updated = dt.datetime.fromtimestamp(place.updated_at, dt.timezone.utc).date().isoformat()
    return {
        "id": f"mairie-kiosk-{place.insee}", "pivot": place.siret, "nom": f"Point numérique de la mairie de {place.name}",
        "commune": place.name, "code_postal": place.postal_code, "code_insee": place.insee, "adresse": place.address,
        "horaires": place.opening_hours or "", "source": source, "itinerance": "Fixe", "date_maj": updated,
        "services": SERVICES, "publics_specifiquement_adresses": "Seniors", "frais_a_charge": "Gratuit",
        "modalites_acces": "Se présenter", "modalites_accompagnement": "En autonomie",
    }


def places_csv(places, source: str) -> tuple[str, list[str]]:
    """The CSV of every complete place, and one French sentence per commune left out."""
    rows, skipped = [], []
    for place in places:
        try:
            rows.append(place_row(place, source))
        except IncompletePlace as problem:
            skipped.append(str(problem))
    table = ([row.get(name, "") for name in FIELDS] for row in rows)
    return write_csv(FIELDS, table, delimiter=",", bom=False, decimal_comma=False), skipped
