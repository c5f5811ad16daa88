"""The fleet server's settings, declared once with their default and a help text.

Read from the environment (``FLEET_DATABASE_URL`` ...) by :meth:`Settings.from_env`, or passed as a
mapping to ``create_app(settings={...})``. A test checks every setting is documented in docs/telemetry.md.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from typing import Any, Mapping

import kiosk

PLACEHOLDER_SECRETS = {"", "change-me", "changeme", "secret", "dev", "xxx"}


def setting(default: Any, help: str):
    from dataclasses import field
    return field(default=default, metadata={"help": help})


class SettingsError(ValueError):
    """A setting has a value the server cannot start with."""


@dataclass(frozen=True)
class Settings:
    database_url: str = setting(
        "sqlite:////var/lib/kiosk-fleet/fleet.db",
        "SQLAlchemy URL of the store: sqlite:////path/fleet.db (embedded, WAL) or "
        "postgresql+psycopg://user@host/db for large fleets.")
    secret_key: str = setting(
        "", "Secret used to sign staff sessions. Required outside tests; placeholders are refused.")
    testing: bool = setting(False, "Test mode: allows an empty secret_key. Never set it in production.")
    checkin_interval_s: int = setting(
        300, "Check-in interval the server tells every kiosk, in seconds (60 to 86400).")
    config_version: str = setting(
        "1", "Version of the kiosk configuration currently published, returned with every check-in.")
    bundle_signing_key: str = setting(
        "", "Path of the fleet's Ed25519 private key (made by `fleet bundle-key`, mode 0600) that signs the "
        "communes' configuration bundles; empty: no bundles are offered to kiosks.")
    releases_dir: str = setting(
        "", "Directory where `fleet release publish` stores the kiosk software releases (wheels and signed "
        "manifests); empty: no releases are offered to kiosks. Needs bundle_signing_key.")
    raw_health_retention_days: int = setting(30, "Days raw health samples are kept, to within a day (roll-ups stay).")
    hourly_rollup_retention_days: int = setting(
        400, "Days hourly health roll-ups are kept; 0 keeps them forever.")
    daily_rollup_retention_days: int = setting(0, "Days daily health roll-ups are kept; 0 keeps them forever.")
    usage_retention_days: int = setting(
        760, "Days daily usage counters are kept (CNIL: audience figures at most 25 months); 0 forever.")
    callback_retention_days: int = setting(
        30, "Days a residents' call-back request (name, phone, note) is kept once marked done, then deleted "
        "by fleet suivi (1 to 365).")
    assist_idle_minutes: int = setting(
        10, "Minutes of remote assistance without a point or message from the mediator before it ends (1 to 120).")
    max_body_bytes: int = setting(1024 * 1024, "Largest request body accepted on the wire, in bytes.")
    enrolment_code_ttl_days: int = setting(
        60, "Days an enrolment code stays valid (a machine may reach the network weeks after install).")
    metrics_token: str = setting(
        "", "Bearer token that opens /metrics to a Prometheus server; empty: staff login only.")
    current_kiosk_version: str = setting(
        "", "Kiosk version machines should run; others get the 'outdated' flag. Empty: this package's version.")
    catalog_path: str = setting(
        "", "The national catalog (services.yaml) whose labels name the tiles in usage figures; "
        "empty: config/services.yaml of this checkout.")
    association_name: str = setting(
        "", "The association's name, printed at the top of the yearly report (page and PDF); "
        "empty: « L'association ».")
    association_logo_path: str = setting(
        "", "A PNG, JPEG or SVG file of the association's logo (at most 1 MB) for the yearly report; "
        "empty: no logo.")
    smtp_host: str = setting("", "SMTP server for the staff's e-mail alerts (fleet suivi); empty: no e-mail sent.")
    smtp_port: int = setting(587, "Port of the SMTP server.")
    smtp_starttls: bool = setting(True, "Encrypt the SMTP connection with STARTTLS (off only for a local relay).")
    smtp_user: str = setting("", "SMTP login, if the server asks for one.")
    smtp_password: str = setting("", "SMTP password (keep it in the server's environment file, mode 0640).")
    smtp_from: str = setting("suivi-du-parc@localhost", "Sender address of the alerts and password-reset links.")
    public_url: str = setting(
        "", "The dashboard's address as staff reach it (https://parc.example.org), for links in e-mails.")
    mediation_source: str = setting(
        "mairie-kiosk", "The 'source' column of the national mediation-places export.")
    session_cookie_secure: bool = setting(
        True, "Send the staff session cookie over HTTPS only. Turn off only for a local demo on http://127.0.0.1.")
    trusted_proxies: int = setting(
        0, "Number of reverse proxies in front of the server (nginx: 1) whose X-Forwarded-For and "
        "X-Forwarded-Proto are believed; the client address is the one the outermost trusted proxy saw. "
        "0: the headers are ignored and the peer address is the client (gunicorn facing the network).")

    def __post_init__(self) -> None:
        if not 60 <= self.checkin_interval_s <= 86400:
            raise SettingsError("checkin_interval_s must be between 60 and 86400 seconds")
        for name in ("raw_health_retention_days", "hourly_rollup_retention_days",
                     "daily_rollup_retention_days", "usage_retention_days"):
            if getattr(self, name) < 0:
                raise SettingsError(f"{name} must be 0 or more")
        if not 1 <= self.callback_retention_days <= 365:
            raise SettingsError("callback_retention_days must be between 1 and 365")
        if not 1 <= self.assist_idle_minutes <= 120:
            raise SettingsError("assist_idle_minutes must be between 1 and 120")
        if not 0 <= self.trusted_proxies <= 5:
            raise SettingsError("trusted_proxies must be between 0 and 5")
        if self.raw_health_retention_days == 0:
            raise SettingsError("raw_health_retention_days must be at least 1")

    def expected_kiosk_version(self) -> str:
        """The kiosk version machines should run (``current_kiosk_version``, or this package's)."""
        return self.current_kiosk_version or kiosk.__version__

    def check_secret(self) -> None:
        """Refuse to serve with an empty or placeholder secret outside tests."""
        if not self.testing and self.secret_key.strip().lower() in PLACEHOLDER_SECRETS:
            raise SettingsError(
                "secret_key is empty or a placeholder: set FLEET_SECRET_KEY to a long random value "
                "(python3 -c 'import secrets; print(secrets.token_urlsafe(48))')")

    @classmethod
    def help_texts(cls) -> dict[str, str]:
        return {f.name: f.metadata["help"] for f in fields(cls)}

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> "Settings":
        known = {f.name: f for f in fields(cls)}
        unknown = set(values) - set(known)
        if unknown:
            raise SettingsError(f"unknown settings: {', '.join(sorted(unknown))}")
        converted = {}
        for name, value in values.items():
            kind = known[name].type
            if isinstance(value, str) and kind in ("int", int):
                try:
                    value = int(value)
                except ValueError:
                    raise SettingsError(f"{name} must be an integer, not {value!r}") from None
            elif isinstance(value, str) and kind in ("bool", bool):
                value = value.strip().lower() in ("1", "true", "yes", "on")
            converted[name] = value
        return cls(**converted)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        environ = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            key = "FLEET_" + f.name.upper()
            if key in environ:
                values[f.name] = environ[key]
        return cls.from_mapping(values)
