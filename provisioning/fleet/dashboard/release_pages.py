"""The « Versions » page (issue 12): per version of the kiosk software and per ring, how many machines
stand where (target, downloaded, installed, running, rolled back, failed), and the machine list with the
last step each reported. Staff and admins only (the whole fleet: a commune account gets a 403)."""

from __future__ import annotations

from flask import Blueprint, render_template

from provisioning.fleet import releases
from provisioning.fleet.accounts.access import FLEET_ROLES, engine, requires

blueprint = Blueprint("releases", __name__, url_prefix="/tableau")
MAX_MACHINES_LISTED = 500  # the counts cover every machine; the list stays a page

STATE_WORDS = {"downloaded": "téléchargée", "installed": "installée, en attente d'une fin de session",
               "switched": "en service", "rolled_back": "annulée : retour à la version précédente",
               "failed": "refusée ou échouée"}
REASON_WORDS = (
    ("bad signature", "signature invalide : la version n'a pas été signée par la clé du parc"),
    ("sha256", "un fichier ne correspond pas à la version publiée (altéré ou abîmé)"),
    ("size differs", "un fichier est incomplet"),
    ("no home screen", "la nouvelle version n'a pas affiché l'accueil à temps"),
    ("crash loop", "la nouvelle version s'arrêtait au démarrage, plusieurs fois de suite"),
    ("exited with", "l'installation a échoué"),
    ("public key", "la clé publique du parc est absente ou illisible sur la borne"),
    ("not fetched", "téléchargement impossible"),
)


@blueprint.app_template_filter("etape_version")
def state_words(state: str | None) -> str:
    return STATE_WORDS.get(state or "", "aucune remontée")


@blueprint.app_template_filter("motif_version")
def reason_words(reason: str | None) -> str:
    for words, text in REASON_WORDS:
        if reason and words in reason:
            return text
    return "motif non reconnu (voir le détail technique)" if reason else ""


@blueprint.get("/versions")
@requires(*FLEET_ROLES)
def versions():
    return render_template("releases/versions.html", view=releases.where_machines_stand(engine()),
                           columns=releases.COUNT_COLUMNS, max_machines=MAX_MACHINES_LISTED)
