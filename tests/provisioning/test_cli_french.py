"""Click's own usage errors and help headings of `provision` and `fleet` are in French, and Click is
left as it was once the command has run."""

from __future__ import annotations

import click.exceptions
import click.formatting
import pytest

from provisioning.fleet.cli import main as fleet_main
from provisioning.provision.cli import main as provision_main


def _run(main, capsys, *args):
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@pytest.mark.parametrize("args, expected", [
    (["run"], ["Utilisation : provision run", "Erreur : Argument manquant", "INVENTAIRE.yml",
               "Aide : « provision run --help »."]),
    (["run", "x.yml", "--nope"], ["Erreur : Option inconnue : « --nope »."]),
    (["lancer"], ["Erreur : Commande inconnue : « lancer »."]),
    (["check", "1.2.3.4", "--port", "99999"], ["Valeur refusée pour '--port'", "n'est pas dans l'intervalle"]),
    (["check", "1.2.3.4", "--connection", "telnet"], ["Valeur refusée pour '--connection'", "choisissez parmi"]),
    (["audit"], ["Utilisation : provision audit", "Argument manquant"]),
])
def test_provision_usage_errors_are_in_french(capsys, args, expected):
    code, output = _run(provision_main, capsys, *args)
    assert code == 2
    for text in expected:
        assert text in output, output
    assert "Usage:" not in output and "Error:" not in output


def test_provision_help_is_in_french(capsys):
    code, output = _run(provision_main, capsys, "--help")
    assert code == 0
    assert "Utilisation : provision" in output and "Commandes" in output and "Afficher cette aide et quitter." in output
    assert "audit" in output


def test_fleet_usage_errors_are_in_french(capsys):
    code, output = _run(fleet_main, capsys, "inexistante")
    assert code == 2
    assert "Commande inconnue : « inexistante »." in output and "No such command" not in output


def test_click_is_left_in_english_afterwards(capsys):
    _run(provision_main, capsys, "run")
    assert click.formatting._("Usage:") == "Usage:"
    assert click.exceptions._("Missing argument") == "Missing argument"
