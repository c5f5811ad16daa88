"""E-mail alerts (issue 16 point 2): staff choose them; each is sent once on entering a state and once on
recovery; many at once become a daily digest; a failing mail server loses nothing. Mail goes to a real
SMTP server on loopback (smtp_sink.py) through the real smtplib client."""

from __future__ import annotations

import dataclasses
import socket
import time

import pytest

from dashboard_helpers import checkin, csrf_token, health, inventory
from smtp_sink import SmtpSink


def subscribe(fleet, kinds, email="coordination@asso.example"):
    client = fleet.client("staff")
    token = csrf_token(client.get("/tableau/alertes").get_data(as_text=True))
    answer = client.post("/tableau/alertes", data={"csrf_token": token, "email": email, "kinds": kinds})
    assert answer.status_code == 302, answer.get_data(as_text=True)[:300]
    assert "checked" in client.get("/tableau/alertes").get_data(as_text=True)


def settings_for(fleet, port: int):
    return dataclasses.replace(fleet.app.config["FLEET_SETTINGS"], smtp_host="127.0.0.1", smtp_port=port,
                               smtp_starttls=False, smtp_from="suivi@asso.example")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_alerts_are_sent_once_on_entering_and_once_on_recovery(fresh_sqlite, monkeypatch):
    from provisioning.fleet.dashboard import alerts
    subscribe(fresh_sqlite, ["outdated", "crash_loop", "late", "disk_full"])
    engine = fresh_sqlite.app.extensions["fleet_engine"]
    with SmtpSink() as sink:
        settings = settings_for(fresh_sqlite, sink.port)
        assert alerts.run(engine, settings) == (2, 2)
        assert sorted(sink.subjects()) == ["Alerte : LOUR-001 plantages répétés", "Alerte : LUCH-002 version ancienne"]
        to, message = sink.messages[0]
        assert to == ["coordination@asso.example"] and message["From"] == "suivi@asso.example"
        assert "Que faire" not in message.get_content() and "Alertes" in message.get_content()

        assert alerts.run(engine, settings) == (0, 0)  # still in the same states: nothing sent again

        # LUCH-002 is updated: it leaves "version ancienne" and is now simply late (three days silent).
        checkin(fresh_sqlite.app, fresh_sqlite.tokens["LUCH-002"], [inventory(30, "CZC1234XYZ", version="1.0.0")])
        with engine.begin() as conn:
            from provisioning.fleet.store.schema import devices
            conn.execute(devices.update().where(devices.c.asset_tag == "LUCH-002")
                         .values(last_seen_at=time.time() - 3 * 86400))
        assert alerts.run(engine, settings) == (2, 2)
        assert set(sink.subjects()[2:]) == {"Rétabli : LUCH-002 n'est plus « version ancienne »",
                                           "Alerte : LUCH-002 en retard"}

        # Many at once: one digest, then nothing more that day for that person.
        monkeypatch.setattr(alerts, "DIGEST_AFTER", 1)
        checkin(fresh_sqlite.app, fresh_sqlite.tokens["LUCH-001"], [health(40, time.time() - 5, disk=97.0)])
        checkin(fresh_sqlite.app, fresh_sqlite.tokens["LUCH-002"], [health(40, time.time() - 5)])  # back online
        found, sent = alerts.run(engine, settings)
        assert found >= 2 and sent == 1
        digest = sink.messages[-1][1]
        assert digest["Subject"].startswith("Résumé des alertes") and "LUCH-001" in digest.get_content()
        assert "Que faire" in digest.get_content()


def test_a_mail_server_down_loses_no_alert(fresh_sqlite):
    from provisioning.fleet.dashboard import alerts
    subscribe(fresh_sqlite, ["outdated"])
    engine = fresh_sqlite.app.extensions["fleet_engine"]
    with pytest.raises(OSError):
        alerts.run(engine, settings_for(fresh_sqlite, free_port()))  # nothing listens there
    with SmtpSink() as sink:
        assert alerts.run(engine, settings_for(fresh_sqlite, sink.port)) == (2, 1)  # crash_loop not chosen
        assert sink.subjects() == ["Alerte : LUCH-002 version ancienne"]


def test_fleet_suivi_sends_the_alerts(fresh_sqlite, monkeypatch, capsys):
    from provisioning.fleet.cli import main
    subscribe(fresh_sqlite, ["crash_loop"])
    with SmtpSink() as sink:
        for name, value in {"FLEET_SMTP_HOST": "127.0.0.1", "FLEET_SMTP_PORT": str(sink.port),
                            "FLEET_SMTP_STARTTLS": "0", "FLEET_CURRENT_KIOSK_VERSION": "1.0.0"}.items():
            monkeypatch.setenv(name, value)
        assert main(["--database-url", fresh_sqlite.url, "suivi"]) == 0
        assert sink.subjects() == ["Alerte : LOUR-001 plantages répétés"]
    assert "1\u00a0courriel envoyé" in capsys.readouterr().out
