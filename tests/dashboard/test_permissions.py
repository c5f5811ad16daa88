"""The permission matrix: every page, export and API-side page of the dashboard, for every role.

A ``commune`` account (Luchon) sees its own commune and nothing of Lourdes: no page, no figure, no
export of it may contain Lourdes' machines, name, INSEE code or figures (4242).
"""

from __future__ import annotations

import pytest

from dashboard_helpers import LOURDES, LOURDES_MARKERS, LUCHON, csrf_token

OWN = "own"          # 200 for every logged-in role
FLEET = "fleet"      # 200 for admin and staff; 403 for commune
OTHER = "other"      # 200 for admin and staff; 404 for commune (it must not learn it exists)
ADMIN = "admin"      # 200 for admin; 403 for staff and commune
METRICS = "metrics"  # 200 for admin and staff; 401 for commune and anonymous (bearer token or staff login)

PAGES = [
    ("/tableau/", OWN), (f"/tableau/?commune={LUCHON}", OWN), (f"/tableau/?commune={LOURDES}", OTHER),
    ("/tableau/?statut=late&alerte=memory", OWN), ("/tableau/?q=LOUR", OWN), ("/tableau/?cycle=", OWN),
    ("/tableau/machines/LUCH-001", OWN), ("/tableau/machines/LOUR-001", OTHER),
    ("/tableau/usage", OWN), ("/tableau/usage?par=week", OWN), ("/tableau/usage?par=month", OWN),
    (f"/tableau/usage?commune={LUCHON}", OWN), (f"/tableau/usage?commune={LOURDES}", OTHER),
    ("/tableau/rapport", OWN), (f"/tableau/rapport?commune={LOURDES}", OTHER),
    ("/tableau/communes", OWN), (f"/tableau/communes/{LUCHON}", FLEET), (f"/tableau/communes/{LOURDES}", FLEET),
    ("/tableau/export/parc.csv", OWN), (f"/tableau/export/parc.csv?commune={LOURDES}", OTHER),
    ("/tableau/export/usage/sessions-par-jour.csv", OWN), ("/tableau/export/usage/sessions-par-semaine.csv?par=week", OWN),
    ("/tableau/export/usage/sessions-par-mois.csv?par=month", OWN),
    ("/tableau/export/usage/sessions-par-commune.csv", OWN), ("/tableau/export/usage/ouvertures-par-tuile.csv", OWN),
    ("/tableau/export/usage/durees-de-session.csv", OWN),
    (f"/tableau/export/usage/sessions-par-commune.csv?commune={LOURDES}", OTHER),
    (f"/tableau/export/usage/ouvertures-par-tuile.csv?commune={LOURDES}", OTHER),
    ("/tableau/export/rapport/rapport-annuel.csv", OWN), ("/tableau/export/rapport/parc-par-etape.csv", OWN),
    ("/tableau/export/rapport/rapport-sessions-par-mois.csv", OWN),
    (f"/tableau/export/rapport/rapport-annuel.csv?commune={LOURDES}", OTHER),
    ("/tableau/export/communes.csv", OWN),
    ("/tableau/export/machines/LUCH-001/sante.csv", OWN), ("/tableau/export/machines/LUCH-001/redemarrages.csv", OWN),
    ("/tableau/export/machines/LUCH-001/chronologie.csv", OWN), ("/tableau/export/machines/LOUR-001/chronologie.csv", OTHER),
    ("/tableau/export/machines/LOUR-001/sante.csv", OTHER), ("/tableau/export/machines/LOUR-001/redemarrages.csv", OTHER),
    ("/tableau/export/glpi/LUCH-001.json", OWN), ("/tableau/export/glpi/LOUR-001.json", OTHER),
    ("/tableau/export/glpi.json", OWN), ("/tableau/export/lieux-mediation-numerique.csv", OWN),
    ("/tableau/materiel", OWN), ("/tableau/materiel?cycle=deployed&page=1", OWN), ("/tableau/export/materiel.csv", OWN),
    ("/tableau/exports", OWN), ("/tableau/alertes", FLEET), ("/tableau/comptes", ADMIN), ("/tableau/export/rapport.pdf", OWN),
    (f"/tableau/export/rapport.pdf?commune={LOURDES}", OTHER),
    ("/tableau/export/rapport/rapport-par-commune.csv", OWN), ("/tableau/export/rapport/rapport-par-categorie.csv", OWN),
    ("/tableau/export/rapport/rapport-comparaison.csv", OWN),
    (f"/tableau/export/rapport/rapport-par-commune.csv?commune={LOURDES}", OTHER),
    ("/metrics", METRICS),
    ("/tableau/configuration", FLEET), (f"/tableau/communes/{LUCHON}/bus", FLEET),
    (f"/tableau/communes/{LUCHON}/horaires", OWN), (f"/tableau/communes/{LOURDES}/horaires", OTHER), (f"/tableau/communes/{LOURDES}/bus", FLEET),  # central management
    ("/tableau/rappels", FLEET), ("/tableau/rappels?etat=done", FLEET),  # residents' call-back requests
    ("/tableau/versions", FLEET),  # kiosk software releases
    ("/tableau/messages", FLEET),  # messages to the kiosks (commune accounts: none, see remote_actions_pages.py)
    ("/tableau/catalogue", FLEET),  # the national services catalog
]

ACTIONS = [  # (path, form fields): changes, for admin and staff only
    ("/tableau/machines/LUCH-001/jeton/renouveler", {}),
    ("/tableau/machines/LOUR-001/jeton/renouveler", {}),
    ("/tableau/machines/LUCH-001/jeton/revoquer", {}),
    ("/tableau/machines/LOUR-001/jeton/revoquer", {}),
    ("/tableau/machines/LUCH-001/commune", {"commune": LUCHON}),
    ("/tableau/machines/LOUR-001/cycle", {"lifecycle_state": "deployed", "donor": "Entreprise X"}),
    (f"/tableau/communes/{LOURDES}", {"postal_code": "65100"}),
    ("/tableau/machines/LUCH-001/note", {"text": "Jean passe jeudi"}),
    ("/tableau/alertes", {"email": "equipe@asso.example", "kinds": ["lost"]}),
    ("/tableau/machines/LOUR-001/note", {"text": ""}),
    ("/tableau/materiel", {"asset_tag": "DON-0001", "lifecycle_state": "donated"}),
    (f"/tableau/communes/{LUCHON}/configuration/1/retour", {}),  # central management: rollback
    ("/tableau/catalogue/1/retour", {}),  # the national catalog: rollback
    ("/tableau/rappels/1", {"r1-status": "done"}),
    ("/tableau/machines/LUCH-001/actions", {"kind": "diagnostic"}), ("/tableau/machines/LUCH-001/actions/1/annuler", {}),
    ("/tableau/messages", {"scope": "commune", "target": LUCHON, "text": "Le bus ne passera pas jeudi 12",
                           "ends_on": str(__import__("datetime").date.today())}), ("/tableau/messages/1/fin", {}),
    ("/tableau/machines/LUCH-001/assistance", {"name": "Claire", "title": "médiatrice"}),  # remote assistance
]


def pdf_text(pdf: bytes) -> str:
    """A PDF's text (poppler's pdftotext), with no thin spaces so "4 242" reads 4242."""
    import subprocess
    return subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True, timeout=120).stdout.decode()


def expected_status(kind: str, role: str | None) -> int:
    if role is None:
        return 401 if kind == METRICS else 302
    if kind == ADMIN:
        return 200 if role == "admin" else 403
    if role in ("admin", "staff"):
        return 200
    return {OWN: 200, FLEET: 403, OTHER: 404, METRICS: 401}[kind]


@pytest.mark.parametrize("role", [None, "admin", "staff", "commune"])
def test_every_page_and_export_answers_each_role_as_it_should(seeded, role):
    client = seeded.client(role)
    wrong = []
    for path, kind in PAGES:
        response = client.get(path)
        want = expected_status(kind, role)
        if response.status_code != want:
            wrong.append(f"{path}: {response.status_code}, expected {want}")
        elif want == 302 and "/connexion" not in response.headers["Location"]:
            wrong.append(f"{path}: redirected to {response.headers['Location']}, not to the login page")
    assert not wrong, "\n".join(wrong)


def test_a_commune_account_receives_nothing_of_another_commune(seeded):
    client = seeded.client("commune")
    leaks = []
    for path, kind in PAGES:
        response = client.get(path)
        body = pdf_text(response.data) if response.mimetype == "application/pdf" else response.get_data(as_text=True)
        leaks += [f"{path} contains {marker!r}" for marker in LOURDES_MARKERS if marker in body.replace("\u202f", "")]
    assert not leaks, "\n".join(leaks)


def test_staff_do_see_the_other_commune(seeded):
    """The leak test above is meaningful: the same pages do carry Lourdes for staff."""
    client = seeded.client("staff")
    for path in ("/tableau/", "/tableau/usage", "/tableau/export/parc.csv", "/tableau/export/glpi.json",
                 "/tableau/export/usage/sessions-par-commune.csv", "/tableau/export/lieux-mediation-numerique.csv"):
        body = client.get(path).get_data(as_text=True)
        assert "LOUR-001" in body or "Lourdes" in body, path
    assert "4242" in client.get("/tableau/export/usage/sessions-par-commune.csv").get_data(as_text=True)


@pytest.mark.parametrize("role", [None, "commune", "staff", "admin"])
def test_every_action_is_for_admin_and_staff_only(fresh_sqlite, role):
    client = fresh_sqlite.client(role)
    token = csrf_token(client.get("/connexion" if role is None else "/tableau/").get_data(as_text=True))
    for path, fields in ACTIONS:
        response = client.post(path, data={"csrf_token": token, **fields})
        if role is None:
            assert response.status_code == 302 and "/connexion" in response.headers["Location"], path
        elif role == "commune":
            assert response.status_code == 403, path
        else:
            assert response.status_code == 302, (path, response.status_code)


def test_metrics_accept_the_bearer_token_and_refuse_a_wrong_one(seeded):
    client = seeded.app.test_client()
    good = client.get("/metrics", headers={"Authorization": "Bearer metrics-token-for-tests"})
    assert good.status_code == 200
    assert 'kiosk_fleet_machines{status="online"} 2' in good.get_data(as_text=True)
    assert 'kiosk_fleet_machines{status="late"} 1' in good.get_data(as_text=True)
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401


def test_the_kiosk_api_keeps_its_json_error_shape(seeded):
    response = seeded.app.test_client().get("/api/v1/nowhere")
    assert response.status_code == 404
    assert response.get_json()["ok"] is False


def test_a_staff_login_opens_nothing_on_the_device_api(seeded):
    """The kiosk API answers device tokens only: a dashboard session cookie is no credential there."""
    client = seeded.client("admin")
    import gzip
    import json
    import time
    body = gzip.compress(json.dumps({"protocol": 1, "sent_at": time.time(), "records": []}).encode())
    answer = client.post("/api/v1/checkin", data=body, headers={"Content-Encoding": "gzip"},
                         content_type="application/json")
    assert answer.status_code == 401 and answer.get_json()["ok"] is False
    assert client.get("/api/v1/checkin").status_code == 405
