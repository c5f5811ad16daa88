"""The "Exports" page: every file the dashboard can send, what it contains, its format and who it is for.

Declared once here (the page and the test of every export read this list). Two CSV formats:
- « tableur » (for the staff's spreadsheets): UTF-8 with a byte-order mark, semicolons, decimal commas
  (« 85,3 »), small use counts written « < 5 » — what LibreOffice and Excel in French open as numbers;
- « standard national » (the mediation-places data standard, read by programs): commas, decimal points,
  no byte-order mark, as the standard's schema says.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Blueprint, render_template, url_for

from provisioning.fleet.accounts.access import ALL_ROLES, requires

blueprint = Blueprint("exports_page", __name__, url_prefix="/tableau")

SPREADSHEET = "CSV pour tableur (séparateur « ; », décimales avec une virgule, UTF-8)"
STANDARD = "CSV du standard national (séparateur « , », décimales avec un point, UTF-8)"
JSON = "JSON (format d'inventaire de GLPI)"
PDF = "PDF (document à envoyer tel quel)"


@dataclass(frozen=True)
class Export:
    title: str
    content: str
    format: str
    endpoint: str | None  # None: offered on each machine's page only
    args: tuple[tuple[str, str], ...] = ()
    where: str = ""  # the page that offers it with its filters, if any

    def url(self) -> str | None:
        return url_for(self.endpoint, **dict(self.args)) if self.endpoint else None


EXPORTS = (
    Export("Le parc", "Chaque machine : commune, état, dernière connexion, version, disque, mémoire, température, "
           "alertes. Reprend les filtres de la page Parc.", SPREADSHEET, "exports.fleet_csv", where="Parc"),
    Export("Sessions par jour", "Sessions et pages imprimées par jour sur la période choisie (« < 5 » sous 5).",
           SPREADSHEET, "exports.usage_csv", (("name", "sessions-par-jour"),), "Utilisation"),
    Export("Sessions par commune", "Sessions et pages imprimées de chaque commune sur la période.", SPREADSHEET,
           "exports.usage_csv", (("name", "sessions-par-commune"),), "Utilisation"),
    Export("Services ouverts", "Nombre d'ouvertures de chaque service (tuile) sur la période.", SPREADSHEET,
           "exports.usage_csv", (("name", "ouvertures-par-tuile"),), "Utilisation"),
    Export("Durée des sessions", "Nombre de sessions par tranche de durée.", SPREADSHEET, "exports.usage_csv",
           (("name", "durees-de-session"),), "Utilisation"),
    Export("Rapport annuel : chiffres clés", "Machines installées, communes servies, sessions, heures, pages "
           "imprimées de l'année.", SPREADSHEET, "exports.report_csv", (("name", "rapport-annuel"),), "Rapport annuel"),
    Export("Rapport annuel (PDF)", "Le rapport de l'année, avec le nom et le logo de l'association : chiffres "
           "clés, comparaison avec l'année précédente, chaque commune, services, mois par mois.", PDF,
           "exports.report_pdf", where="Rapport annuel"),
    Export("Rapport annuel : comparaison", "Les chiffres clés de l'année et ceux de l'année précédente.",
           SPREADSHEET, "exports.report_csv", (("name", "rapport-comparaison"),), "Rapport annuel"),
    Export("Rapport annuel : chaque commune", "Par commune : ordinateurs, sessions de l'année et de l'année "
           "précédente, évolution, pages imprimées, disponibilité du point.", SPREADSHEET, "exports.report_csv",
           (("name", "rapport-par-commune"),), "Rapport annuel"),
    Export("Rapport annuel : services par catégorie", "Ouvertures de services par catégorie du catalogue "
           "national, cette année et l'année précédente.", SPREADSHEET, "exports.report_csv",
           (("name", "rapport-par-categorie"),), "Rapport annuel"),
    Export("Rapport annuel : mois par mois", "Sessions et pages imprimées de chaque mois de l'année.", SPREADSHEET,
           "exports.report_csv", (("name", "rapport-sessions-par-mois"),), "Rapport annuel"),
    Export("Rapport annuel : le parc par étape", "Machines données, reconditionnées, installées, revenues, "
           "recyclées.", SPREADSHEET, "exports.report_csv", (("name", "parc-par-etape"),), "Rapport annuel"),
    Export("Les communes", "Chaque commune : connexion attendue, adresse, SIRET, horaires, contact, nombre de "
           "machines.", SPREADSHEET, "exports.places_csv_table", where="Communes"),
    Export("Une machine : chronologie, santé, démarrages", "L'état de la machine jour par jour sur 90 jours "
           "(en ligne, en retard, hors ligne), sa santé (disque, mémoire, température) et ses démarrages par jour.",
           SPREADSHEET, None, where="de chaque machine"),
    Export("Inventaire GLPI d'une machine", "L'inventaire matériel d'une machine, à importer dans GLPI.", JSON,
           None, where="de chaque machine"),
    Export("Le matériel", "Chaque ordinateur donné : étape du cycle de vie, donateur, date d'entrée, certificat "
           "d'effacement.", SPREADSHEET, "exports.assets_csv", where="Matériel"),
    Export("Lieux de médiation numérique", "Les points numériques au format du standard national des lieux de "
           "médiation numérique (pour la cartographie nationale).", STANDARD, "exports.mediation_csv"),
    Export("Inventaire GLPI", "L'inventaire matériel de toutes les machines, à importer dans GLPI.", JSON,
           "exports.glpi_all"),
)


@blueprint.get("/exports")
@requires(*ALL_ROLES)
def exports():
    return render_template("dashboard/exports.html", exports=EXPORTS)
