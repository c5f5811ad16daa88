"""Kiosk software releases end to end over loopback: ``fleet release publish`` of real wheels, rings,
the check-in's ``release`` key, real agents downloading, verifying and installing beside the running
version with pip (offline, ``--no-index``), refusals reported, the launcher's rollback reported and shown
on the « Versions » page. What the store decides runs on SQLite and PostgreSQL; what pip and the launcher
do, on SQLite only (no store change there)."""

from __future__ import annotations

import html
import subprocess
import sys

from release_helpers import LUCHON, build_wheel

from kiosk.updates.layout import ReleasePaths, current_version, staged_version, switch_record
from provisioning.fleet import releases
from tests.dashboard.dashboard_helpers import csrf_token


def staff_client(fleet, username: str = "equipe"):
    from provisioning.fleet.accounts import store as accounts
    with fleet.engine.begin() as conn:
        accounts.create_user(conn, username, "motdepasse-equipe-assez-long-42", "staff", None)
    client = fleet.app.test_client()
    page = client.get("/connexion").get_data(as_text=True)
    answer = client.post("/connexion", data={"csrf_token": csrf_token(page), "username": username,
                                             "password": "motdepasse-equipe-assez-long-42"})
    assert answer.status_code == 302
    return client


def launch(paths: ReleasePaths, tmp_path) -> subprocess.CompletedProcess:
    """The launcher as the session starts it; the installed version is any program that exits."""
    installed = tmp_path / "installed"
    if not installed.exists():
        (installed / "bin").mkdir(parents=True)
        (installed / "bin" / "kiosk").symlink_to(sys.executable)
    return subprocess.run([sys.executable, "-m", "kiosk.updates.launcher", "--releases-dir", str(paths.releases_dir),
                           "--switch-dir", str(paths.switch_dir), "--installed", str(installed),
                           "--health-timeout-s", "3", "--", "run", "/etc/kiosk"], capture_output=True, text=True,
                          timeout=120)


def machine(fleet, asset_tag: str) -> dict:
    with fleet.engine.connect() as conn:
        return next(m for m in releases.machines(conn) if m["asset_tag"] == asset_tag)


def publish(fleet, tmp_path, version: str, behaviour: str = "good", ring: str = "pilote") -> None:
    build_wheel(tmp_path / f"wheelhouse-{version}", version, behaviour)
    assert fleet.fleet("release", "publish", str(tmp_path / f"wheelhouse-{version}"), "--version", version) == 0
    assert fleet.fleet("release", "promote", version, "--ring", ring) == 0


def test_a_pilot_release_reaches_only_pilot_kiosks_which_install_it_offline(release_fleet_sqlite, tmp_path):
    fleet = release_fleet_sqlite
    assert fleet.pilot.checkin() and fleet.other.checkin()  # enrolled
    assert fleet.fleet("ring", "assign", "--ring", "pilote", "LUCH-001") == 0
    assert fleet.fleet("ring", "assign", "--ring", "pilote", "NOPE-404") == 2  # unknown machine: refused
    publish(fleet, tmp_path, "9.0.0")
    assert fleet.fleet("release", "publish", str(tmp_path / "wheelhouse-9.0.0"), "--version", "9.0.0") == 2  # immutable

    assert fleet.pilot.checkin() and fleet.other.checkin()
    assert staged_version(fleet.pilot.paths) == "9.0.0"
    kiosk = fleet.pilot.paths.release("9.0.0") / "bin" / "kiosk"
    shown = subprocess.run([str(kiosk), "run", "/etc/kiosk"], capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0 and "Accueil affiché." in shown.stdout  # a real venv with the wheel's script
    assert not list((fleet.pilot.root / "staging").glob("9.0.0"))  # the downloads are gone once installed
    assert staged_version(fleet.other.paths) is None and not fleet.other.paths.release("9.0.0").exists()

    pilot, other = machine(fleet, "LUCH-001"), machine(fleet, "LUCH-002")
    assert (pilot["ring"], pilot["target"], pilot["state"], pilot["state_version"]) == ("pilote", "9.0.0", "installed", "9.0.0")
    assert (other["ring"], other["target"], other["state"]) == ("tous", None, None)
    page = html.unescape(staff_client(fleet).get("/tableau/versions").get_data(as_text=True))
    assert "9.0.0" in page and "installée, en attente d'une fin de session" in page

    # The session boundary: the launcher switches, the new version shows its home screen, the agent reports.
    run = launch(fleet.pilot.paths, tmp_path)
    assert run.returncode == 0 and "kiosk 9.0.0" in run.stdout and current_version(fleet.pilot.paths) == "9.0.0"
    assert fleet.pilot.checkin()
    pilot = machine(fleet, "LUCH-001")
    assert (pilot["state"], pilot["running"]) == ("switched", "9.0.0")
    with fleet.engine.connect() as conn:  # the check-in answer no longer names a release for it
        device_id = conn.exec_driver_sql("SELECT id FROM devices WHERE asset_tag = 'LUCH-001'").scalar()
    raw = fleet.engine.raw_connection()
    try:
        assert releases.with_release_on(raw, fleet.engine.dialect.name, device_id, {}) == {}
    finally:
        raw.close()
    row = html.unescape(staff_client(fleet, "equipe2").get("/tableau/versions").get_data(as_text=True))
    row = row.split('<th scope="row">9.0.0</th><td>pilote</td>')[1].split("</tr>")[0]
    assert 'data-colonne="target">1<' in row and 'data-colonne="running">1<' in row


def test_a_tampered_file_or_a_bad_signature_is_refused_whole_and_reported(release_fleet, tmp_path):
    fleet = release_fleet
    assert fleet.pilot.checkin() and fleet.other.checkin()
    publish(fleet, tmp_path, "9.1.0", ring="tous")
    stored = next((fleet.releases_dir / "9.1.0" / "files").glob("*.whl"))
    data = bytearray(stored.read_bytes())
    data[len(data) // 2] ^= 0xFF  # one byte, same size
    stored.write_bytes(bytes(data))
    assert fleet.pilot.checkin()
    assert staged_version(fleet.pilot.paths) is None and not fleet.pilot.paths.release("9.1.0").exists()
    assert not (fleet.pilot.root / "staging" / "9.1.0").exists()
    pilot = machine(fleet, "LUCH-001")
    assert (pilot["state"], pilot["state_version"]) == ("failed", "9.1.0") and "sha256" in pilot["reason"]

    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from kiosk.updates.manifest import signature_text
    publish(fleet, tmp_path, "9.2.0", ring="tous")
    manifest = (fleet.releases_dir / "9.2.0" / "manifest.json").read_bytes()
    (fleet.releases_dir / "9.2.0" / "manifest.sig").write_text(signature_text(Ed25519PrivateKey.generate().sign(manifest)))
    assert fleet.other.checkin()
    assert staged_version(fleet.other.paths) is None and not fleet.other.paths.release("9.2.0").exists()
    other = machine(fleet, "LUCH-002")
    assert other["state"] == "failed" and "bad signature" in other["reason"]
    page = html.unescape(staff_client(fleet).get("/tableau/versions").get_data(as_text=True))
    assert "signature invalide" in page and "un fichier ne correspond pas à la version publiée" in page


def test_a_release_that_never_shows_the_home_screen_is_rolled_back_reported_and_shown(release_fleet_sqlite, tmp_path):
    fleet = release_fleet_sqlite
    assert fleet.pilot.checkin()
    assert fleet.fleet("ring", "assign", "--ring", "pilote", "LUCH-001") == 0
    publish(fleet, tmp_path, "9.3.0", behaviour="hang")
    assert fleet.pilot.checkin() and staged_version(fleet.pilot.paths) == "9.3.0"
    paths: ReleasePaths = fleet.pilot.paths
    run = launch(paths, tmp_path)
    assert run.returncode == 1 and "kiosk 9.3.0" in run.stdout
    assert switch_record(paths)["outcome"] == "rolled_back"
    assert fleet.pilot.checkin()  # the agent reports what the launcher decided
    pilot = machine(fleet, "LUCH-001")
    assert (pilot["state"], pilot["state_version"]) == ("rolled_back", "9.3.0") and "no home screen" in pilot["reason"]
    assert fleet.pilot.checkin() and staged_version(paths) == "9.3.0"  # never switched to again: still only staged
    assert switch_record(paths)["rolled_back_versions"] == ["9.3.0"]
    page = html.unescape(staff_client(fleet).get("/tableau/versions").get_data(as_text=True))
    assert "annulée : retour à la version précédente" in page and "n'a pas affiché l'accueil à temps" in page
    row = page.split('<th scope="row">9.3.0</th><td>pilote</td>')[1].split("</tr>")[0]
    assert 'data-colonne="target">1<' in row and 'data-colonne="rolled_back">1<' in row


def test_the_release_api_refuses_hostile_input_with_4xx(release_fleet, tmp_path):
    fleet = release_fleet
    assert fleet.pilot.checkin()
    assert fleet.fleet("ring", "assign", "--ring", "pilote", "LUCH-001") == 0
    publish(fleet, tmp_path, "9.4.0")  # to the pilot ring
    assert (machine(fleet, "LUCH-001")["ring"], machine(fleet, "LUCH-001")["target"]) == ("pilote", "9.4.0")
    for command in (("release", "publish", str(tmp_path / "wheelhouse-9.4.0"), "--version", "../9.4.0"),
                    ("release", "publish", str(tmp_path / "wheelhouse-9.4.0"), "--version", "9.4.1"),  # no such wheel
                    ("release", "publish", str(tmp_path), "--version", "9.4.2"),  # no wheel at all
                    ("release", "promote", "8.0.0", "--ring", "tous"), ("release", "promote", "9.4.0", "--ring", "beta"),
                    ("ring", "assign", "--ring", "pilote")):
        assert fleet.fleet(*command) == 2, command
    token = fleet.pilot.agent.credentials.token
    client = fleet.app.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/releases/9.4.0/manifest").status_code == 401
    manifest = client.get("/api/v1/releases/9.4.0/manifest", headers=auth)
    assert manifest.status_code == 200 and manifest.headers["X-Release-Signature"]
    assert client.get("/api/v1/releases/9.4.0/manifest", headers={**auth, "If-None-Match": manifest.headers["ETag"]}).status_code == 304
    name = next((fleet.releases_dir / "9.4.0" / "files").glob("*.whl")).name
    ranged = client.get(f"/api/v1/releases/9.4.0/files/{name}", headers={**auth, "Range": "bytes=10-19"})
    assert ranged.status_code == 206 and len(ranged.data) == 10
    ranged.close()  # send_file's open file goes with the response
    for path in ("/api/v1/releases/..%2F..%2Fetc/manifest", "/api/v1/releases/9.9.9/manifest",
                 f"/api/v1/releases/9.4.0/files/..%2Fmanifest.json", "/api/v1/releases/9.4.0/files/manifest.sig",
                 "/api/v1/releases/9.4.0/files/" + "a" * 300 + ".whl"):
        answer = client.get(path, headers=auth)
        assert answer.status_code == 404 and answer.json["ok"] is False, path
    bad_bodies = [[], {"state": "installed"}, {"state": "exploded", "version": "9.4.0"},
                  {"state": "failed", "version": "../9"}, {"state": "failed", "version": "9.4.0", "reason": "x" * 301},
                  {"state": "failed", "version": "9.4.0", "reason": 42}, {"state": "failed", "version": "9.4.0", "extra": 1},
                  {"state": "switched", "version": "9.4.0", "running_version": "<script>"}]
    for body in bad_bodies:
        answer = client.post("/api/v1/releases/status", json=body, headers=auth)
        assert answer.status_code == 422 and answer.json["status"] == 422, body
    assert client.post("/api/v1/releases/status", data=b"{", headers={**auth, "Content-Type": "application/json"}).status_code == 400
    assert client.post("/api/v1/releases/status", json={"state": "failed", "version": "9.4.0", "reason": "disk\x00full"},
                       headers=auth).status_code == 200
    assert machine(fleet, "LUCH-001")["reason"] == "diskfull"


def test_downloads_go_by_ranges_and_resume_a_cut_file(release_fleet_sqlite, tmp_path, monkeypatch):
    """Small chunks (so one wheel takes many ``Range`` requests), a ``.part`` left by a cut link resumed
    where it stopped, and a ``.part`` holding wrong bytes refused by the sha256 and removed."""
    from kiosk.updates import puller as puller_module
    from kiosk.updates.manifest import ReleaseRefused
    fleet = release_fleet_sqlite
    assert fleet.pilot.checkin()
    publish(fleet, tmp_path, "9.5.0", ring="tous")
    monkeypatch.setattr(puller_module, "CHUNK_BYTES", 97)
    releases_puller, token = fleet.pilot.agent.releases, fleet.pilot.agent.credentials.token
    document = releases_puller._fetch_manifest(token, "9.5.0")
    entry = document["files"][0]
    original = (fleet.releases_dir / "9.5.0" / "files" / entry["name"]).read_bytes()
    staging = tmp_path / "resume"
    staging.mkdir()
    (staging / (entry["name"] + ".part")).write_bytes(original[:500])  # the link was cut after 500 bytes
    releases_puller._download_all(token, "9.5.0", document, staging)
    assert (staging / entry["name"]).read_bytes() == original and not (staging / (entry["name"] + ".part")).exists()

    (staging / entry["name"]).unlink()
    (staging / (entry["name"] + ".part")).write_bytes(b"\0" * 500)  # bytes that are not the file's
    try:
        releases_puller._download_all(token, "9.5.0", document, staging)
    except ReleaseRefused as refused:
        assert "sha256" in str(refused)
    else:
        raise AssertionError("a file with wrong bytes was accepted")
    assert not list(staging.iterdir())
