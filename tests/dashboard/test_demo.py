"""The demo's fleet server: prepared by provisioning.fleet.dashboard.demo (what scripts/demo.py calls), the
real kiosk agent enrols and checks in to it over loopback, and the fresh demo login opens the dashboard."""

from __future__ import annotations

import subprocess
import sys
import time

from dashboard_helpers import REPO_ROOT_FOR_TESTS, login


def test_the_demo_kiosk_agent_checks_in_and_the_demo_login_sees_it(tmp_path, serve_wsgi):
    from provisioning.fleet import create_app
    from provisioning.fleet.dashboard.demo import prepare_demo_fleet
    url = f"sqlite:///{tmp_path / 'fleet.db'}"
    demo = prepare_demo_fleet(url, REPO_ROOT_FOR_TESTS / "config" / "demo")
    again = prepare_demo_fleet(url, REPO_ROOT_FOR_TESTS / "config" / "demo")
    assert demo.username == "demo" and again.password != demo.password and len(again.password) >= 16
    app = create_app({"database_url": url, "testing": True, "secret_key": "demo-" + "k" * 40})
    base = serve_wsgi(app).rstrip("/")
    (tmp_path / "code").write_text(again.enrolment_code + "\n")
    (tmp_path / "agent.yaml").write_text(
        f"fleet_url: {base}\nasset_tag: DEMO-0001\ncommune_insee: \"{demo.commune_insee}\"\n"
        f"enrolment_code_file: {tmp_path / 'code'}\nstate_dir: {tmp_path / 'state'}\n"
        f"events_dir: {tmp_path / 'events'}\ninterval_s: 1\n")
    agent = subprocess.Popen([sys.executable, "-m", "kiosk.cli", "agent", "--settings", str(tmp_path / "agent.yaml")],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    client = app.test_client()
    try:
        assert login(client, "demo", demo.password).status_code == 401  # the first password no longer works
        assert login(client, "demo", again.password).status_code == 302
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            page = client.get("/tableau/").get_data(as_text=True)
            if "DEMO-0001" in page and "En ligne" in page:
                break
            time.sleep(0.5)
        else:
            raise AssertionError("the demo agent never showed up on the dashboard")
        machine = client.get("/tableau/machines/DEMO-0001").get_data(as_text=True)
        assert "Bagnères-de-Luchon (31042)" in machine and "Disque utilisé" in machine
    finally:
        agent.terminate()
        agent.wait(timeout=10)
        agent.stderr.close()
        app.extensions["fleet_engine"].dispose()
    places = client.get("/tableau/export/lieux-mediation-numerique.csv").get_data(as_text=True)
    assert "Mo 09:00-12:00,14:00-17:00; Tu 09:00-12:00,14:00-17:00" in places


def test_the_demo_server_asks_for_check_ins_as_often_as_the_demo_commune_expects(tmp_path):
    """Otherwise the single demo kiosk reads « En retard » two minutes after start (issue 16)."""
    import sqlalchemy as sa
    from provisioning.fleet.dashboard.demo import demo_server_environment, prepare_demo_fleet
    from provisioning.fleet.settings import Settings
    from provisioning.fleet.store.engine import make_engine
    from provisioning.fleet.store.schema import communes
    url = f"sqlite:///{tmp_path / 'fleet.db'}"
    demo = prepare_demo_fleet(url, REPO_ROOT_FOR_TESTS / "config" / "demo")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            expected = conn.execute(sa.select(communes.c.expected_interval_s)
                                    .where(communes.c.insee == demo.commune_insee)).scalar_one()
    finally:
        engine.dispose()
    server = Settings.from_env({"FLEET_SECRET_KEY": "x" * 40, **demo_server_environment()})
    assert server.checkin_interval_s == expected
    script = (REPO_ROOT_FOR_TESTS / "scripts" / "demo.py").read_text(encoding="utf-8")
    assert "**demo_server_environment()" in script
