"""Messages and remote actions (issue 12 point 3), end to end: the staff's dashboard (its real forms), the
fleet server over loopback, the real agent (in this process, and once as its own process), the kiosk's
request files, the window's boundary handler with a command runner that records what it was asked, and
the shell's page with the banner. SQLite and PostgreSQL (the managed_fleet fixture)."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import subprocess
import sys
import time

import pytest
import sqlalchemy as sa

from management_helpers import ASSET_TAG, LUCHON
from tests.dashboard.dashboard_helpers import csrf_token

FAKE_JOURNAL = "\n".join([
    "2026-11-28T09:00:01+0100 pc kiosk[812]: kiosk started, home shown",
    "2026-11-28T09:12:44+0100 pc kiosk[812]: page loaded https://www.service-public.fr/particuliers/vosdroits?q=rsa",
    "2026-11-28T09:13:02+0100 pc kiosk[812]: navigation to www.impots.gouv.fr/portail refused",
    "2026-11-28T09:14:10+0100 pc kiosk[812]: field value \"Jean Dupont 12 rue des Lilas\" kept by the page",
    "2026-11-28T09:15:00+0100 pc kiosk[812]: blocked host ameli.fr (not allowed); contact jean.dupont@orange.fr 06 12 34 56 78",
    "2026-11-28T09:16:00+0100 pc kiosk-agent[90]: check-in refused, retrying in kiosk-agent.service",
])
RESIDENT_TRACES = ("service-public", "impots", "ameli", "Dupont", "Lilas", "orange.fr", "06 12", "http", "rsa")


def staff_post(client, path: str, fields: dict):
    token = csrf_token(client.get("/tableau/messages").get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **fields})


def action_rows(fleet):
    from provisioning.fleet.store.actions_schema import actions
    with fleet.engine.connect() as conn:
        return conn.execute(sa.select(actions).order_by(actions.c.id)).all()


def fake_journal_command(tmp_path) -> tuple[str, ...]:
    (tmp_path / "journal.txt").write_text(FAKE_JOURNAL + "\n")
    return (sys.executable, "-c", f"print(open({str(tmp_path / 'journal.txt')!r}).read())")


def test_a_diagnostic_is_delivered_once_filtered_acknowledged_and_shown(managed_fleet, tmp_path):
    assert managed_fleet.checkin()  # enrolled
    managed_fleet.agent.remote.diagnostic_command = fake_journal_command(tmp_path)
    staff = managed_fleet.staff()
    assert staff_post(staff, f"/tableau/machines/{ASSET_TAG}/actions", {"kind": "diagnostic"}).status_code == 302
    page = staff.get(f"/tableau/machines/{ASSET_TAG}").get_data(as_text=True)
    assert "en attente depuis moins d’une minute" in page
    assert managed_fleet.checkin()
    [row] = action_rows(managed_fleet)
    assert row.state == "done" and row.delivered_at is not None and row.answered_at is not None
    for trace in RESIDENT_TRACES:
        assert trace not in row.diagnostic, trace
    assert "kiosk started, home shown" in row.diagnostic and "kiosk-agent.service" in row.diagnostic
    assert managed_fleet.checkin()  # not handed out again, not run again
    assert action_rows(managed_fleet)[0].answered_at == row.answered_at
    page = staff.get(f"/tableau/machines/{ASSET_TAG}").get_data(as_text=True)
    assert "faite le" in page and "Télécharger le diagnostic" in page
    download = staff.get(f"/tableau/machines/{ASSET_TAG}/actions/{row.id}/diagnostic")
    assert download.status_code == 200 and "home shown" in download.get_data(as_text=True)
    commune = managed_fleet.staff("commune")
    assert "Messages et actions" not in commune.get(f"/tableau/machines/{ASSET_TAG}").get_data(as_text=True)
    assert commune.get(f"/tableau/machines/{ASSET_TAG}/actions/{row.id}/diagnostic").status_code == 403


def test_an_action_handed_out_again_is_run_once(managed_fleet, tmp_path):
    from provisioning.fleet import remote_actions
    assert managed_fleet.checkin()
    managed_fleet.agent.remote.diagnostic_command = fake_journal_command(tmp_path)
    action_id = remote_actions.queue_action(managed_fleet.engine, ASSET_TAG, "diagnostic", "test", time.time())
    token = managed_fleet.agent.credentials.token
    answer = {"actions": [{"id": action_id, "kind": "diagnostic"}]}
    managed_fleet.agent.remote.take(answer["actions"], token)
    (tmp_path / "journal.txt").write_text("second run\n")
    managed_fleet.agent.remote.take(answer["actions"], token)  # the answer came again (lost acknowledgement)
    assert managed_fleet.agent.remote.report(token) == 1
    assert "second run" not in action_rows(managed_fleet)[0].diagnostic


class RecordingRunner:
    """Stands in for running commands: records what the kiosk asked, runs nothing."""

    def __init__(self, status: int = 0) -> None:
        self.asked: list[tuple[str, ...]] = []
        self.status = status

    def __call__(self, command) -> int:
        self.asked.append(tuple(command))
        return self.status


def test_reboot_and_restart_wait_for_the_session_boundary_then_are_reported(managed_fleet):
    from kiosk.agent.actions_boundary import BoundaryRequests
    assert managed_fleet.checkin()
    staff = managed_fleet.staff()
    staff_post(staff, f"/tableau/machines/{ASSET_TAG}/actions", {"kind": "reboot"})
    assert managed_fleet.checkin()
    assert [row.state for row in action_rows(managed_fleet)] == ["accepted"]
    assert "acceptée : à la fin de la session" in staff.get(f"/tableau/machines/{ASSET_TAG}").get_data(as_text=True)
    runner, quits = RecordingRunner(), []
    requests = BoundaryRequests(managed_fleet.bundle_dir, ("sudo-less", "reboot-now"), runner)

    class Busy:  # a resident is at the kiosk: nothing happens
        class session:
            state = type("State", (), {"value": "active"})()
    requests.when_free(Busy, requests.boundary_hook(None, quits.append))
    assert runner.asked == [] and quits == []
    requests.boundary_hook(None, quits.append)("the kiosk")  # the session ended and was wiped
    assert runner.asked == [("sudo-less", "reboot-now")] and quits == []
    assert managed_fleet.checkin()
    [row] = action_rows(managed_fleet)
    assert row.state == "done" and "redémarrage" in row.detail

    staff_post(staff, f"/tableau/machines/{ASSET_TAG}/actions", {"kind": "restart"})
    assert managed_fleet.checkin()
    requests.boundary_hook(None, quits.append)("the kiosk")
    assert quits == ["the kiosk"] and len(runner.asked) == 1
    assert managed_fleet.checkin()
    assert action_rows(managed_fleet)[-1].state == "done"


def test_a_failed_reboot_command_is_reported_as_failed(managed_fleet):
    from kiosk.agent.actions_boundary import BoundaryRequests
    assert managed_fleet.checkin()
    staff_post(managed_fleet.staff(), f"/tableau/machines/{ASSET_TAG}/actions", {"kind": "reboot"})
    assert managed_fleet.checkin()
    BoundaryRequests(managed_fleet.bundle_dir, ("reboot",), RecordingRunner(status=1)).carry_out(lambda: None)
    assert managed_fleet.checkin()
    [row] = action_rows(managed_fleet)
    assert row.state == "failed" and "code 1" in row.detail


def test_an_offline_kiosk_gets_the_action_later_and_staff_may_cancel_a_waiting_one(managed_fleet):
    assert managed_fleet.checkin()
    staff = managed_fleet.staff()
    staff_post(staff, f"/tableau/machines/{ASSET_TAG}/actions", {"kind": "restart"})
    [row] = action_rows(managed_fleet)
    answer = staff_post(staff, f"/tableau/machines/{ASSET_TAG}/actions/{row.id}/annuler", {})
    assert answer.status_code == 302
    assert managed_fleet.checkin()
    assert action_rows(managed_fleet)[0].state == "cancelled"
    assert not (managed_fleet.bundle_dir / "requests").exists() or not list((managed_fleet.bundle_dir / "requests").iterdir())
    assert "annulée" in staff.get(f"/tableau/machines/{ASSET_TAG}").get_data(as_text=True)
    staff_post(staff, f"/tableau/machines/{ASSET_TAG}/actions", {"kind": "restart"})  # sent while offline
    assert managed_fleet.checkin()  # back: it arrives
    assert action_rows(managed_fleet)[-1].state == "accepted"
    cancel = staff_post(staff, f"/tableau/machines/{ASSET_TAG}/actions/{action_rows(managed_fleet)[-1].id}/annuler", {})
    assert cancel.status_code == 302 and action_rows(managed_fleet)[-1].state == "accepted"  # too late


def test_a_message_reaches_the_shell_banner_until_it_is_ended(managed_fleet):
    from kiosk.config import load_config
    from kiosk.shell import ShellSettings, create_app
    assert managed_fleet.checkin()
    staff = managed_fleet.staff()
    text = "Le bus ne passera pas jeudi 12, prochain passage le jeudi 19."
    answer = staff_post(staff, "/tableau/messages", {"scope": "commune", "target": LUCHON, "text": text,
                                                     "ends_on": (dt.date.today() + dt.timedelta(days=3)).isoformat()})
    assert answer.status_code == 302
    assert managed_fleet.checkin()
    shell = create_app(load_config(managed_fleet.config_dir),
                       settings=ShellSettings(messages_file=str(managed_fleet.bundle_dir / "messages.json")))
    for path in ("/", "/aide"):
        page = shell.test_client().get(path).get_data(as_text=True)
        assert text in page and "message-equipe" in page, path
        assert page.index("message-equipe") < page.index('<main id="contenu"'), path
    [message_id] = [row.id for row in _messages(managed_fleet)]
    staff_post(staff, f"/tableau/messages/{message_id}/fin", {})
    assert managed_fleet.checkin()
    assert text not in shell.test_client().get("/").get_data(as_text=True)


def _messages(fleet):
    from provisioning.fleet.store.actions_schema import messages
    with fleet.engine.connect() as conn:
        return conn.execute(sa.select(messages)).all()


def test_the_banner_goes_at_its_end_date_even_offline(tmp_path):
    from kiosk.shell.messages import MessageFile
    path = tmp_path / "messages.json"
    path.write_text(json.dumps([{"id": 1, "text": "Fermé lundi", "ends_at": 1000.0}]))
    assert [m["text"] for m in MessageFile(path, clock=lambda: 999.0).current()] == ["Fermé lundi"]
    assert MessageFile(path, clock=lambda: 1000.0).current() == []


@pytest.mark.parametrize("fields, problem", [
    ({"scope": "fleet", "text": "", "ends_on": "2099-01-01"}, "écrivez le texte"),
    ({"scope": "fleet", "text": "x" * 281, "ends_on": dt.date.today().isoformat()}, "280 caractères au plus"),
    ({"scope": "fleet", "text": "Fermé", "ends_on": "demain"}, "AAAA-MM-JJ"),
    ({"scope": "fleet", "text": "Fermé", "ends_on": "2020-01-01"}, "déjà passée"),
    ({"scope": "commune", "target": "99999", "text": "Fermé", "ends_on": dt.date.today().isoformat()}, "inconnue"),
])
def test_a_bad_message_is_refused_in_french(managed_fleet, fields, problem):
    answer = staff_post(managed_fleet.staff(), "/tableau/messages", fields)
    assert answer.status_code == 400 and problem in answer.get_data(as_text=True)
    assert _messages(managed_fleet) == []


def _post_raw(url: str, path: str, body: bytes, token: str | None, content_type: str = "application/json"):
    import urllib.error
    import urllib.request
    headers = {"Content-Type": content_type}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        with urllib.request.urlopen(urllib.request.Request(url + path, data=body, headers=headers), timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


@pytest.mark.parametrize("path, body, status", [
    ("/api/v1/actions/{id}/result", b'{"state": "exploded"}', 422),
    ("/api/v1/actions/{id}/result", b'{"state": "done", "detail": 42}', 422),
    ("/api/v1/actions/{id}/result", b'{"state": "done", "detail": "' + b"x" * 301 + b'"}', 422),
    ("/api/v1/actions/{id}/result", b'{"state": "failed", "diagnostic": "x"}', 422),
    ("/api/v1/actions/{id}/result", b'{"state": "done", "extra": 1}', 422),
    ("/api/v1/actions/{id}/result", b'[1, 2]', 422),
    ("/api/v1/actions/{id}/result", b'{"state": "done"', 400),
    ("/api/v1/actions/{id}/result", b'{"state": "done", "diagnostic": "' + b"x" * (600 * 1024) + b'"}', 413),
    ("/api/v1/actions/99999/result", b'{"state": "done"}', 404),
    ("/api/v1/actions/abc/result", b'{"state": "done"}', 404),
    ("/api/v1/actions/99999999999999999999/result", b'{"state": "done"}', 404),
])
def test_a_hostile_result_is_refused_with_a_clear_4xx(managed_fleet, path, body, status):
    from provisioning.fleet import remote_actions
    assert managed_fleet.checkin()
    action_id = remote_actions.queue_action(managed_fleet.engine, ASSET_TAG, "diagnostic", "test", time.time())
    got, document = _post_raw(managed_fleet.url, path.format(id=action_id), body, managed_fleet.agent.credentials.token)
    assert got == status and document["ok"] is False and document["status"] == status and document["error"]
    assert action_rows(managed_fleet)[0].state == "pending"


def test_a_result_needs_the_token_of_the_kiosk_the_action_is_for(managed_fleet):
    from provisioning.fleet import remote_actions
    from provisioning.fleet.enrolment import create_enrolment_code
    assert managed_fleet.checkin()
    action_id = remote_actions.queue_action(managed_fleet.engine, ASSET_TAG, "restart", "test", time.time())
    assert _post_raw(managed_fleet.url, f"/api/v1/actions/{action_id}/result", b'{"state": "done"}', None)[0] == 401
    code = create_enrolment_code(managed_fleet.engine, LUCHON, time.time(), 30, name="Bagnères-de-Luchon")
    status, other = _post_raw(managed_fleet.url, "/api/v1/enrol", json.dumps(
        {"protocol": 1, "code": code, "asset_tag": "LUCH-002", "commune_insee": LUCHON}).encode(), None)
    assert status == 201
    got, document = _post_raw(managed_fleet.url, f"/api/v1/actions/{action_id}/result", b'{"state": "done"}', other["token"])
    assert got == 404 and action_rows(managed_fleet)[0].state == "pending"


def test_the_agent_process_runs_a_queued_diagnostic_over_loopback(managed_fleet, tmp_path):
    """The full path with real processes: the agent (`kiosk agent`) checks in, collects, filters, uploads."""
    from provisioning.fleet import remote_actions
    assert managed_fleet.checkin()  # enrolled: the process reuses the agent's state directory and token
    settings = managed_fleet.agent.settings
    command = fake_journal_command(tmp_path)
    (tmp_path / "agent.yaml").write_text(json.dumps({
        "fleet_url": managed_fleet.url, "asset_tag": ASSET_TAG, "commune_insee": LUCHON,
        "enrolment_code_file": str(tmp_path / "code"), "state_dir": str(settings.state_dir),
        "events_dir": str(settings.events_dir), "bundle_dir": str(settings.bundle_dir), "interval_s": 1,
        "diagnostic_command": list(command)}))
    action_id = remote_actions.queue_action(managed_fleet.engine, ASSET_TAG, "diagnostic", "staff", time.time())
    agent = subprocess.Popen([sys.executable, "-m", "kiosk.cli", "agent", "--settings", str(tmp_path / "agent.yaml")],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and action_rows(managed_fleet)[0].state != "done":
            assert agent.poll() is None, agent.stdout.read().decode()[-2000:]
            time.sleep(0.2)
    finally:
        agent.terminate()
        output = agent.communicate(timeout=30)[0].decode()
    [row] = action_rows(managed_fleet)
    assert row.id == action_id and row.state == "done", output[-2000:]
    assert all(trace not in row.diagnostic for trace in RESIDENT_TRACES)
    assert "http" not in output  # nor in the agent's own log


class ResultsOutage:
    """In front of the fleet app: while ``down``, the kiosk's action reports get 503 (a link or a proxy
    failing right after the check-in that handed the action out); everything else passes."""

    def __init__(self, app) -> None:
        self.app, self.down, self.refused = app, True, 0

    def __call__(self, environ, start_response):
        if self.down and environ["PATH_INFO"].endswith("/result"):
            self.refused += 1
            start_response("503 Service Unavailable", [("Content-Type", "application/json")])
            return [b'{"ok": false, "error": "unavailable", "errors": [], "status": 503}']
        return self.app(environ, start_response)


def test_an_action_cancelled_after_the_kiosk_received_it_does_not_run(managed_fleet, tmp_path):
    """The real agent process receives a restart, cannot confirm it (503), staff cancel it, and once the
    server answers again the agent learns it was cancelled: no request for the kiosk, still « annulée »."""
    assert managed_fleet.checkin()
    outage = ResultsOutage(managed_fleet.app.wsgi_app)
    managed_fleet.app.wsgi_app = outage
    settings = managed_fleet.agent.settings
    (tmp_path / "agent.yaml").write_text(json.dumps({
        "fleet_url": managed_fleet.url, "asset_tag": ASSET_TAG, "commune_insee": LUCHON,
        "enrolment_code_file": str(tmp_path / "code"), "state_dir": str(settings.state_dir),
        "events_dir": str(settings.events_dir), "bundle_dir": str(settings.bundle_dir), "interval_s": 1}))
    staff = managed_fleet.staff()
    staff_post(staff, f"/tableau/machines/{ASSET_TAG}/actions", {"kind": "restart"})
    [row] = action_rows(managed_fleet)
    journal = settings.state_dir / "actions.json"
    command = [sys.executable, "-m", "kiosk.cli", "agent", "--settings", str(tmp_path / "agent.yaml")]

    def entry() -> dict:
        try:
            return json.loads(journal.read_text()).get(str(row.id), {})
        except (OSError, ValueError):
            return {}

    def run_agent_until(condition, what: str) -> str:
        """A real `kiosk agent` process, from its start (it checks in at once) until ``condition``."""
        agent = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 90
            while not condition():
                assert agent.poll() is None, agent.stdout.read().decode()[-2000:]
                assert time.monotonic() < deadline, what
                time.sleep(0.2)
        finally:
            agent.terminate()
            output = agent.communicate(timeout=30)[0].decode()
        return output

    run_agent_until(lambda: entry().get("state") == "received" and outage.refused >= 1, "received, not confirmed")
    assert action_rows(managed_fleet)[0].state == "delivered"
    answer = staff_post(staff, f"/tableau/machines/{ASSET_TAG}/actions/{row.id}/annuler", {})
    assert answer.status_code == 302 and action_rows(managed_fleet)[0].state == "cancelled"
    outage.down = False  # the link is back; the agent (started again) asks before running it
    output = run_agent_until(lambda: entry().get("state") == "cancelled", "the agent learning it was cancelled")
    requests = managed_fleet.bundle_dir / "requests"
    assert not requests.exists() or not list(requests.iterdir()), output[-2000:]
    assert action_rows(managed_fleet)[0].state == "cancelled"
    assert "annulée" in staff.get(f"/tableau/machines/{ASSET_TAG}").get_data(as_text=True)
