"""`kiosk check-config`: the demo passes; every broken configuration exits 2 naming file, line and field."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.cli import main
from kiosk.config import ConfigError, load_config

REPO = Path(__file__).resolve().parents[2]
KIOSK = "kiosk.yaml"
CATALOG = "../services.yaml"


def test_demo_configuration_is_valid(capsys):
    assert main(["check-config", str(REPO / "config" / "demo")]) == 0
    out = capsys.readouterr().out
    assert "Bagnères-de-Luchon" in out


def test_demo_has_at_least_twenty_real_services_and_all_categories():
    config = load_config(REPO / "config" / "demo")
    assert len(config.tiles) >= 20
    labels = [category.label for category, _ in config.categories()]
    for expected in ("Santé", "Impôts", "Famille", "Retraite", "Papiers d'identité", "Emploi", "Ma commune"):
        assert expected in labels
    impots = config.tile("impots")
    assert "oidc.franceconnect.gouv.fr" in impots.allowed_hosts  # from the shared host group
    assert "www.impots.gouv.fr" in impots.allowed_hosts


def test_console_script_runs_from_the_installed_package():
    result = subprocess.run([str(Path(sys.executable).parent / "kiosk"), "check-config", str(REPO / "config" / "demo")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def _replace(old, new, count=1):
    def mutate(text):
        assert old in text, f"fixture text not found: {old!r}"
        return text.replace(old, new, count)
    return mutate


def _append(extra):
    return lambda text: text + extra


LOCAL_TILE_URL = "    url: https://www.luchon.fr/\n"

# (case id, file to change, mutation, expected field in the message, marker of the expected line, words expected)
BROKEN = [
    ("yaml-syntax", KIOSK, _replace("  name: Bagnères-de-Luchon\n", "  name: [Bagnères-de-Luchon\n"),
     "(syntaxe YAML)", None, "syntaxe YAML"),
    ("unknown-key", KIOSK, _replace("opening_hours:\n", "horaires_ouverture: {}\nopening_hours:\n"),
     "horaires_ouverture", "horaires_ouverture:", "clé inconnue"),
    ("unknown-nested-key", KIOSK, _replace("  insee: \"31042\"\n", "  insee: \"31042\"\n  maire: Jean\n"),
     "commune.maire", "  maire: Jean", "clé inconnue"),
    ("wrong-type", KIOSK, _replace("  warning_after_s: 300\n", "  warning_after_s: cinq minutes\n"),
     "idle.warning_after_s", "warning_after_s:", "nombre entier"),
    ("too-short-answer-time", KIOSK, _replace("  answer_within_s: 90\n", "  answer_within_s: 20\n"),
     "idle.answer_within_s", "answer_within_s:", "60 au moins"),
    ("invalid-url", KIOSK, _replace(LOCAL_TILE_URL, "    url: htps//www.luchon.fr\n"),
     "tiles[23].url", "url: htps//", "https://"),
    ("duplicate-tile", KIOSK, _replace("  - service: msa\n", "  - service: ameli\n"),
     "tiles[1].id", "  - service: ameli\n  - service: impots", "en double"),
    ("start-host-not-allowed", KIOSK, _replace(LOCAL_TILE_URL, "    url: https://www.example.org/\n"),
     "tiles[23].url", "url: https://www.example.org/", "www.example.org"),
    ("missing-pictogram", KIOSK, _replace("    pictogram: mairie.svg\n", "    pictogram: fontaine.svg\n"),
     "tiles[23].pictogram", "pictogram: fontaine.svg", "fontaine.svg"),
    ("unknown-service", KIOSK, _replace("  - service: payfip\n", "  - service: impots-locaux\n"),
     "tiles[3].service", "service: impots-locaux", "absent du catalogue"),
    ("bad-insee", KIOSK, _replace("  insee: \"31042\"\n", "  insee: \"3104\"\n"),
     "commune.insee", "insee:", "3104"),
    ("missing-required", KIOSK, _replace("  mediator:\n    name: Claire, médiatrice numérique de l'association\n    phone: 05 36 49 12 34\n", "  mediateur:\n    name: Claire\n    phone: 05 36 49 12 34\n"),
     "help.mediator", "help:", "obligatoire"),
    ("duplicate-yaml-key", KIOSK, _append("printer: null\n"),
     "printer", "printer: null", "en double"),
    ("bad-phone", KIOSK, _replace("    phone: 05 36 49 12 34\n", "    phone: appelez la mairie\n"),
     "help.mediator.phone", "phone: appelez", "téléphone"),
    ("bad-hours", KIOSK, _replace("  we: [\"09:00-12:00\"]\n", "  we: [\"12:00-09:00\"]\n"),
     "opening_hours.we[0]", "  we:", "plage horaire"),
    ("bad-host-rule", KIOSK, _replace("    hosts: [www.luchon.fr, luchon.fr]\n", "    hosts: [https://www.luchon.fr/]\n"),
     "tiles[23].hosts[0]", "hosts: [https://", "nom d'hôte"),
    ("tiles-not-a-list", KIOSK, _append("printer_tray: 2\n"), "printer_tray", "printer_tray:", "clé inconnue"),
    ("featured-not-a-tile", KIOSK, _replace("featured: [ameli, impots,", "featured: [ameli, impot,"),
     "featured[1]", "featured: [ameli, impot,", "absente de tiles"),
    ("featured-twice", KIOSK, _replace("featured: [ameli, impots,", "featured: [ameli, ameli,"),
     "featured[1]", "featured: [ameli, ameli,", "en double"),
    ("featured-too-many", KIOSK, _replace("featured: [ameli,", "featured: [msa, payfip, ameli,"),
     "featured", "featured:", "8 éléments au plus"),
    ("mediator-hours-bad-range", KIOSK, _replace("      we: [\"09:00-12:00\"]\n", "      we: [\"9h-12h\"]\n"),
     "help.mediator.hours.we[0]", "      we: [\"9h-12h\"]", "plage horaire"),
    ("mediator-hours-free-text", KIOSK, _replace("    hours:\n      mo:", "    hours: du lundi au vendredi\n    horaires:\n      mo:"),
     "help.mediator.hours", "    hours: du lundi", "section"),
    ("catalog-unknown-category", CATALOG, _replace("    category: emploi\n", "    category: travail\n"),
     "services[15].category", "category: travail", "catégorie « travail »"),
    ("catalog-unknown-host-group", CATALOG, _replace("    host_groups: [ants, franceconnect]\n", "    host_groups: [ants, france-connect]\n"),
     "services[9].host_groups[1]", "host_groups: [ants, france-connect]", "france-connect"),
    ("catalog-duplicate-service", CATALOG, _replace("  - id: msa\n", "  - id: ameli\n"),
     "services[1].id", "  - id: ameli\n    label: MSA", "en double"),
    ("catalog-bad-group-host", CATALOG, _replace("      - idp.msa.fr\n", "      - idp.msa.fr/login\n"),
     "host_groups.franceconnect.hosts[5]", "idp.msa.fr/login", "nom d'hôte"),
    ("catalog-description-too-long", CATALOG, _replace("    description: Déclarer vos revenus et payer vos impôts.\n",
                                                       "    description: " + "Très long texte. " * 12 + "\n"),
     "services[2].description", "Très long texte", "trop long"),
    ("catalog-empty", CATALOG, lambda text: "", "(document)", None, "vide"),
    ("catalog-bad-site-name", CATALOG, _replace("    site_name: le site des impôts\n", "    site_name: Impôts<script>\n"),
     "services[2].site_name", "site_name: Impôts<script>", "nom de site invalide"),
]


@pytest.mark.parametrize("case, filename, mutate, field, line_marker, words", BROKEN, ids=[case[0] for case in BROKEN])
def test_broken_configuration_exits_2_naming_file_line_and_field(config_copy, capsys, case, filename, mutate, field, line_marker, words):
    path = (config_copy / filename).resolve()
    text = mutate(path.read_text(encoding="utf-8"))
    path.write_text(text, encoding="utf-8")

    assert main(["check-config", str(config_copy)]) == 2
    err = capsys.readouterr().err
    messages = [line for line in err.splitlines() if line.startswith(str(path))]
    assert messages, f"no message names {path}:\n{err}"
    matching = [line for line in messages if f": {field} : " in line]
    assert matching, f"no message names field {field!r}:\n{err}"
    message = matching[0]
    assert words in message
    if line_marker is not None:
        expected_line = text[: text.index(line_marker)].count("\n") + 1
        assert re.match(rf"^{re.escape(str(path))}:{expected_line}: ", message), (expected_line, message)
    assert "erreur" in err.splitlines()[-1]


def test_every_problem_is_reported_not_just_the_first(config_copy, capsys):
    path = config_copy / KIOSK
    text = path.read_text(encoding="utf-8")
    text = text.replace("  insee: \"31042\"\n", "  insee: \"abc\"\n").replace("  warning_after_s: 300\n", "  warning_after_s: -1\n")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(config_copy)
    fields = [problem.field for problem in raised.value.problems]
    assert "commune.insee" in fields and "idle.warning_after_s" in fields


def test_missing_directory_and_missing_kiosk_file(tmp_path, capsys):
    assert main(["check-config", str(tmp_path / "absent")]) == 2
    assert "introuvable" in capsys.readouterr().err
    assert main(["check-config", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / KIOSK}" in err and "introuvable" in err


def test_serving_refuses_to_start_on_a_broken_configuration(config_copy, capsys):
    path = config_copy / KIOSK
    path.write_text(path.read_text(encoding="utf-8").replace("  - service: msa\n", "  - service: inconnu\n"), encoding="utf-8")
    assert main(["serve", str(config_copy), "--port", "0"]) == 2
    assert "absent du catalogue" in capsys.readouterr().err
