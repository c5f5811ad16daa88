"""The agent's settings file (``/etc/kiosk/agent.yaml``, rendered by provisioning), checked strictly.

Every problem names the file, the line when known, the field and what to do, in French, in the same
style as ``kiosk check-config``.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from kiosk.agent.actions_diagnostic import DEFAULT_COMMAND as DIAGNOSTIC_COMMAND
from kiosk.problems import ConfigError, ConfigProblem

ASSET_TAG = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,31}$")
INSEE = re.compile(r"^([0-9]{5}|2[AB][0-9]{3})$")

REQUIRED = ("fleet_url", "asset_tag", "commune_insee", "enrolment_code_file")
OPTIONAL = ("state_dir", "events_dir", "ca_file", "interval_s", "spool_quota_mb",
            "bundle_public_key", "bundle_dir", "config_dir", "releases_dir", "release_staging_dir",
            "release_switch_dir", "diagnostic_command")


@dataclass(frozen=True)
class AgentSettings:
    fleet_url: str
    asset_tag: str
    commune_insee: str
    enrolment_code_file: Path
    state_dir: Path = Path("/var/lib/kiosk-agent")
    events_dir: Path = Path("/var/lib/kiosk/events")
    ca_file: Path | None = None
    interval_s: int = 300
    spool_quota_mb: int = 50
    bundle_public_key: Path | None = None  # the fleet's Ed25519 public key; None: no configuration bundles
    bundle_dir: Path = Path("/var/lib/kiosk/bundles")
    config_dir: Path = Path("/etc/kiosk")
    # Kiosk software updates (docs/updates.md): where verified releases are installed (None: no updates;
    # needs bundle_public_key), where their files are downloaded, and where the launcher keeps `current`.
    releases_dir: Path | None = None
    release_staging_dir: Path = Path("/var/lib/kiosk-agent/release-staging")
    release_switch_dir: Path = Path("/var/lib/kiosk/release")
    diagnostic_command: tuple[str, ...] = DIAGNOSTIC_COMMAND  # reads the kiosk units' journal (issue 12)


SettingsProblem = ConfigProblem  # the same error shape as the kiosk's configuration


class AgentSettingsError(ConfigError):
    """The agent's settings cannot be used; ``problems`` lists every reason."""


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _check_url(value) -> str | None:
    if not isinstance(value, str):
        return "il faut une adresse https://… ici"
    parts = urlsplit(value)
    if parts.scheme == "https" and parts.hostname:
        return None
    if parts.scheme == "http" and parts.hostname and _is_loopback(parts.hostname):
        return None
    if parts.scheme == "http":
        return "http:// n'est permis que vers la machine elle-même (127.0.0.1) : utilisez https://"
    return f"adresse « {value} » invalide : il faut https://serveur-de-flotte…"


def _line_numbers(text: str) -> dict[str, int]:
    lines = {}
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return lines
    if isinstance(node, yaml.MappingNode):
        for key, _value in node.value:
            lines[str(key.value)] = key.start_mark.line + 1
    return lines


def load_agent_settings(path: str | Path) -> AgentSettings:
    path = Path(path)
    problems: list[SettingsProblem] = []

    def problem(field: str, message: str, line: int | None = None) -> None:
        problems.append(SettingsProblem(path, line, field, message))

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        problem("(fichier)", f"lecture impossible ({error.strerror}). Vérifiez le chemin et les droits")
        raise AgentSettingsError(problems) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem("(fichier)", "YAML mal formé. Vérifiez l'indentation et les deux-points",
                mark.line + 1 if mark else None)
        raise AgentSettingsError(problems) from None
    if not isinstance(data, dict):
        problem("(fichier)", "il faut une liste de réglages « clé: valeur »")
        raise AgentSettingsError(problems)
    lines = _line_numbers(text)
    for key in data:
        if key not in REQUIRED and key not in OPTIONAL:
            problem(str(key), "clé inconnue. Vérifiez l'orthographe ou supprimez-la (voir docs/telemetry.md)",
                    lines.get(str(key)))
    for key in REQUIRED:
        if key not in data or data[key] in (None, ""):
            problem(key, "champ obligatoire manquant. Ajoutez-le (voir docs/telemetry.md)")
    values: dict = {}
    if "fleet_url" in data and data["fleet_url"]:
        message = _check_url(data["fleet_url"])
        if message:
            problem("fleet_url", message, lines.get("fleet_url"))
        else:
            values["fleet_url"] = data["fleet_url"].rstrip("/")
    for key, pattern, example in (("asset_tag", ASSET_TAG, "AB-0042 (majuscules, chiffres, tirets)"),
                                  ("commune_insee", INSEE, "31042 ou 2A004")):
        if key in data and data[key] not in (None, ""):
            value = data[key]
            if not isinstance(value, str) or not pattern.match(value):
                problem(key, f"valeur « {value} » au mauvais format : ex. {example}", lines.get(key))
            else:
                values[key] = value
    for key in ("enrolment_code_file", "state_dir", "events_dir", "ca_file", "bundle_public_key", "bundle_dir",
                "config_dir", "releases_dir", "release_staging_dir", "release_switch_dir"):
        if key in data and data[key] not in (None, ""):
            value = data[key]
            if not isinstance(value, str) or not value.startswith("/"):
                problem(key, "il faut un chemin absolu ici (commençant par /)", lines.get(key))
            else:
                values[key] = Path(value)
    if "ca_file" in values and not values["ca_file"].is_file():
        problem("ca_file", f"fichier {values['ca_file']} introuvable", lines.get("ca_file"))
    for key, low, high in (("interval_s", 1, 86400), ("spool_quota_mb", 1, 10000)):
        if key in data:
            value = data[key]
            if type(value) is not int:
                problem(key, f"il faut un nombre entier ici (trouvé : {value!r})", lines.get(key))
            elif not low <= value <= high:
                problem(key, f"valeur hors limites : entre {low} et {high}", lines.get(key))
            else:
                values[key] = value
    if "diagnostic_command" in data:
        value = data["diagnostic_command"]
        if (not isinstance(value, list) or not 1 <= len(value) <= 30
                or not all(isinstance(part, str) and 0 < len(part) <= 200 for part in value)):
            problem("diagnostic_command", "il faut une liste de mots (la commande et ses arguments)",
                    lines.get("diagnostic_command"))
        else:
            values["diagnostic_command"] = tuple(value)
    if problems:
        raise AgentSettingsError(problems)
    return AgentSettings(**values)
