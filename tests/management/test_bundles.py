"""Configuration bundles end to end: the real agent against the real fleet app over loopback, on SQLite and
PostgreSQL. A bus-calendar change reaches the kiosk's staged then applied configuration after one
check-in; edits made while a kiosk is offline arrive as the last one only; a forged, truncated or invalid
bundle is refused whole, the old configuration kept, the refusal reported to the server; nothing is
applied while a session is open (only :func:`apply_staged`, called at a session boundary, applies)."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest

from kiosk.agent import bundles_format
from kiosk.agent.bundles import active_config_dir, applied_version, apply_staged, staged_version
from kiosk.config import load_config
from management_helpers import ASSET_TAG, LUCHON

VISIT = {"date": "2027-02-04", "hours": "10:00-12:30", "place": "Place du marché"}


def loaded_visits(fleet) -> list[tuple[str, str, str]]:
    """The bus visits of the configuration the kiosk would load now."""
    config = load_config(active_config_dir(fleet.bundle_dir, fleet.config_dir))
    return [(visit.date.isoformat(), visit.hours, visit.place) for visit in config.help.bus_visits]


def edit_calendar(fleet, visits: list[dict]) -> int:
    from provisioning.fleet import management
    return management.set_bus_calendar(fleet.engine, LUCHON, visits, "staff", time.time())


def test_a_calendar_edit_is_staged_after_one_checkin_and_applied_at_the_session_boundary(managed_fleet):
    fleet = managed_fleet
    installed = loaded_visits(fleet)
    assert fleet.checkin()  # enrols, checks in, pulls version 1 (the published kiosk.yaml)
    assert staged_version(fleet.bundle_dir) == 1
    version = edit_calendar(fleet, [VISIT])
    assert version == 2
    assert fleet.checkin()
    assert staged_version(fleet.bundle_dir) == 2
    # Staged is not applied: the kiosk still loads what it had (a session may be open right now).
    assert loaded_visits(fleet) == installed
    assert apply_staged(fleet.bundle_dir) == 2  # the session boundary
    assert loaded_visits(fleet) == [("2027-02-04", "10:00-12:30", "Place du marché")]
    assert applied_version(fleet.bundle_dir) == 2 and staged_version(fleet.bundle_dir) is None
    assert apply_staged(fleet.bundle_dir) is None  # nothing more to apply
    # The server knows what the kiosk applied (reported on the next check-in).
    from provisioning.fleet import management
    assert fleet.checkin()
    assert management.status_of(fleet.engine, ASSET_TAG)["applied_version"] == 2


def test_three_edits_while_offline_arrive_as_the_last_one_only(managed_fleet, monkeypatch):
    fleet = managed_fleet
    assert fleet.checkin()
    apply_staged(fleet.bundle_dir)
    fetched = []
    original_get = fleet.agent.client.get
    monkeypatch.setattr(fleet.agent.client, "get",
                        lambda *args, **kwargs: fetched.append(args[0]) or original_get(*args, **kwargs))
    for day in ("2027-03-01", "2027-03-08", "2027-03-15"):  # the kiosk is offline: no check-in between
        edit_calendar(fleet, [{**VISIT, "date": day}])
    assert fleet.checkin()
    assert fetched == [bundles_format.BUNDLE_PATH]  # one download, of the newest version
    assert staged_version(fleet.bundle_dir) == 4
    apply_staged(fleet.bundle_dir)
    assert loaded_visits(fleet) == [("2027-03-15", "10:00-12:30", "Place du marché")]
    fleet.checkin()
    assert fetched == [bundles_format.BUNDLE_PATH]  # nothing changed: nothing downloaded again


def test_an_unchanged_bundle_is_answered_304_to_a_conditional_request(managed_fleet):
    from kiosk.agent.bundles import _read_status
    fleet = managed_fleet
    assert fleet.checkin()
    etag = _read_status(fleet.bundle_dir)["etag"]
    status, headers, body = fleet.agent.client.get(bundles_format.BUNDLE_PATH, fleet.agent.credentials.token,
                                                   {"If-None-Match": etag})
    assert (status, body) == (304, b"")
    status, headers, body = fleet.agent.client.get(bundles_format.BUNDLE_PATH, fleet.agent.credentials.token)
    assert status == 200 and headers["etag"] == etag and bundles_format.decode(body)["version"] == 1


def _serve_tampered(fleet, monkeypatch, tamper):
    """The agent's next download is altered on its way in (what a broken proxy or an attacker would do)."""
    original_get = fleet.agent.client.get

    def get(path, token, headers=None, max_bytes=1024 * 1024):
        status, answer_headers, payload = original_get(path, token, headers, max_bytes)
        return status, *tamper(dict(answer_headers), payload)
    monkeypatch.setattr(fleet.agent.client, "get", get)


def _resign(fleet, content: dict) -> tuple[dict, bytes]:
    """A bundle signed with the fleet's real key (so only the kiosk's validation can refuse it)."""
    from provisioning.fleet.bundle_signing import load_private_key
    payload = bundles_format.encode(content)
    signature = bundles_format.signature_text(load_private_key(fleet.key_path).sign(payload))
    return {bundles_format.SIGNATURE_HEADER.lower(): signature}, payload


def _forged(fleet):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    def tamper(headers, payload):
        headers[bundles_format.SIGNATURE_HEADER.lower()] = bundles_format.signature_text(
            Ed25519PrivateKey.generate().sign(payload))
        return headers, payload
    return tamper


def _truncated(fleet):
    return lambda headers, payload: (headers, payload[: len(payload) // 2])


def _invalid(fleet):
    def tamper(headers, payload):
        content = bundles_format.decode(payload)
        content["site"]["help"]["bus_visits"] = [{"date": "2027-02-30", "hours": "25:00-26:00", "place": "Ici"}]
        return _resign(fleet, content)
    return tamper


@pytest.mark.parametrize("tamper, reason", [(_forged, "bad signature"), (_truncated, "bad signature"),
                                            (_invalid, "invalid configuration")],
                         ids=["bad-signature", "truncated", "invalid"])
def test_a_refused_bundle_keeps_the_old_configuration_and_is_reported(managed_fleet, monkeypatch, tamper, reason):
    from provisioning.fleet import management
    fleet = managed_fleet
    assert fleet.checkin()
    apply_staged(fleet.bundle_dir)
    before = loaded_visits(fleet)
    edit_calendar(fleet, [VISIT])
    _serve_tampered(fleet, monkeypatch, tamper(fleet))
    assert fleet.checkin()
    assert staged_version(fleet.bundle_dir) is None and applied_version(fleet.bundle_dir) == 1
    assert apply_staged(fleet.bundle_dir) is None
    assert loaded_visits(fleet) == before
    assert not list(fleet.bundle_dir.glob(".v*"))  # nothing half-written left behind
    status = management.status_of(fleet.engine, ASSET_TAG)
    assert status["refused_version"] == 2 and reason in status["refusal"]
    assert status["applied_version"] == 1
    # The machine's page shows it (to the staff).
    page = fleet.staff().get(f"/tableau/machines/{ASSET_TAG}").get_data(as_text=True)
    assert "refusé" in page and "version 2" in page


def test_the_checkin_answer_names_the_version_only_when_bundles_are_enabled(managed_fleet):
    fleet = managed_fleet
    answers = []
    original = fleet.agent.client.checkin
    fleet.agent.client.checkin = lambda *args: answers.append(original(*args)) or answers[-1]
    assert fleet.checkin()
    assert answers[-1].body["bundle_version"] == 1


def test_the_bundle_endpoint_needs_a_device_token(managed_fleet):
    client = managed_fleet.app.test_client()
    answer = client.get(bundles_format.BUNDLE_PATH)
    assert answer.status_code == 401 and answer.get_json()["ok"] is False
    answer = client.get(bundles_format.BUNDLE_PATH, headers={"Authorization": "Bearer nope"})
    assert answer.status_code == 401


def test_a_hostile_status_report_is_refused_without_a_500(managed_fleet):
    fleet = managed_fleet
    assert fleet.checkin()
    client = fleet.app.test_client()
    for body in ([], {"refusal": "x" * 301}, {"applied_version": "2"}, {"other": 1}, {"applied_version": True},
                 {"refused_version": 2**40}):
        answer = client.post(bundles_format.BUNDLE_STATUS_PATH, data=json.dumps(body), content_type="application/json",
                             headers={"Authorization": f"Bearer {fleet.agent.credentials.token}"})
        assert answer.status_code == 422, (body, answer.get_data(as_text=True))
        assert answer.get_json()["ok"] is False


def test_a_refused_version_is_asked_for_again_an_hour_later(managed_fleet, monkeypatch):
    """A download cut short fails like a forgery; the kiosk must still converge without a new edit."""
    from kiosk.agent.bundles import REFUSED_RETRY_S
    fleet = managed_fleet
    assert fleet.checkin()
    apply_staged(fleet.bundle_dir)
    edit_calendar(fleet, [VISIT])
    with monkeypatch.context() as patch:
        _serve_tampered(fleet, patch, _truncated(fleet))
        assert fleet.checkin()
    assert staged_version(fleet.bundle_dir) is None
    assert fleet.checkin()  # at once: not asked again
    assert staged_version(fleet.bundle_dir) is None
    later = time.time() + REFUSED_RETRY_S + 1
    fleet.agent.bundles.after_checkin(fleet.agent.credentials.token, {"bundle_version": 2}, later)
    assert staged_version(fleet.bundle_dir) == 2


def test_starting_the_kiosk_is_a_boundary_too(managed_fleet):
    """``kiosk run --bundles``: what the agent staged while the kiosk was stopped is applied at start."""
    from kiosk.window.bundle_swap import config_dir_at_start
    fleet = managed_fleet
    assert config_dir_at_start(fleet.config_dir, fleet.bundle_dir) == fleet.config_dir  # nothing yet
    edit_calendar(fleet, [VISIT])
    assert fleet.checkin() and staged_version(fleet.bundle_dir) == 2
    directory = config_dir_at_start(fleet.config_dir, fleet.bundle_dir)
    assert directory == fleet.bundle_dir / "current" and applied_version(fleet.bundle_dir) == 2
    assert [visit.place for visit in load_config(directory).help.bus_visits] == ["Place du marché"]
