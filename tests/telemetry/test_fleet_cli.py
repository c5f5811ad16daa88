"""The ``fleet`` command: migrations, enrolment codes, token revocation and rotation, retention; French
messages and exit code 2 on bad input. And the server refuses a placeholder secret outside tests."""

from __future__ import annotations

import time

import pytest

from provisioning.fleet.cli import main
from provisioning.fleet.enrolment import enrol
from provisioning.fleet.errors import ApiError
from provisioning.fleet.store.ingest import authenticate


@pytest.fixture
def fleet_env(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'fleet.db'}"
    monkeypatch.setenv("FLEET_DATABASE_URL", url)
    assert main(["db", "upgrade"]) == 0
    from provisioning.fleet.store.engine import make_engine
    engine = make_engine(url)
    yield engine
    engine.dispose()


def test_enrolment_code_then_revoke_and_rotate(fleet_env, capsys):
    assert main(["enrolment-code", "65059", "--name", "Bagnères-de-Luchon", "--expected-interval-h", "24"]) == 0
    code = capsys.readouterr().out.strip()
    token = enrol(fleet_env, code, "AB-0042", "65059", time.time())["token"]
    assert main(["tokens", "rotate", "AB-0042"]) == 0
    assert authenticate(fleet_env, token).rotate_requested
    assert main(["tokens", "revoke", "AB-0042"]) == 0
    assert "1 jeton(s) révoqué(s)" in capsys.readouterr().out
    with pytest.raises(ApiError):
        authenticate(fleet_env, token)
    assert main(["prune"]) == 0
    with fleet_env.connect() as connection:
        assert connection.exec_driver_sql("SELECT expected_interval_s FROM communes").scalar_one() == 86400


def test_a_reinstall_code_re_enrols_a_machine_that_is_checking_in(fleet_env, capsys):
    assert main(["enrolment-code", "65059", "--name", "Bagnères-de-Luchon"]) == 0
    first = enrol(fleet_env, capsys.readouterr().out.strip(), "AB-0043", "65059", time.time())
    from provisioning.fleet.store.ingest import ingest
    from telemetry_helpers import health_record
    ingest(fleet_env, authenticate(fleet_env, first["token"]), [health_record(1)], time.time())
    assert main(["enrolment-code", "65059"]) == 0
    with pytest.raises(ApiError) as refused:                    # an ordinary code: the machine is healthy
        enrol(fleet_env, capsys.readouterr().out.strip(), "AB-0043", "65059", time.time())
    assert refused.value.status == 409
    assert main(["enrolment-code", "65059", "--asset-tag", "AB-0043"]) == 0
    out, err = capsys.readouterr()
    assert "pour réinstaller la borne AB-0043" in err
    again = enrol(fleet_env, out.strip(), "AB-0043", "65059", time.time())
    assert again["device_id"] == first["device_id"] and again["seq_base"] == 1


@pytest.mark.parametrize("argv, words", [
    (["enrolment-code", "3104"], "code INSEE « 3104 » invalide"),
    (["enrolment-code", "31042"], "commune 31042 inconnue"),
    (["tokens", "revoke", "AB-9999"], "aucune borne"),
    (["tokens", "rotate", "not a tag"], "numéro d'inventaire"),
    (["enrolment-code", "65059", "--name", "Luchon", "--asset-tag", "AB-0404"], "aucune borne inscrite"),
    (["enrolment-code", "65059", "--name", "Luchon", "--asset-tag", "ab 1"], "étiquette « ab 1 » invalide"),
    (["enrolment-code"], "Argument manquant"),
])
def test_bad_input_exits_2_with_one_sentence(fleet_env, capsys, argv, words):
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert words in error and "Traceback" not in error


def test_placeholder_secret_is_refused_outside_tests(tmp_path):
    from provisioning.fleet import create_app
    from provisioning.fleet.settings import SettingsError
    for secret in ("", "change-me"):
        with pytest.raises(SettingsError, match="FLEET_SECRET_KEY"):
            create_app({"database_url": f"sqlite:///{tmp_path / 'x.db'}", "secret_key": secret})
    assert create_app({"database_url": f"sqlite:///{tmp_path / 'x.db'}", "secret_key": "k" * 40})
