"""Configuration bundles on the kiosk (issue 12): the agent pulls the bundle meant for its commune when
the check-in answer names a new version, verifies it whole (Ed25519 signature of the fleet's key, then
the kiosk's own validation, the one ``kiosk check-config`` runs) and stages it; the kiosk applies it at
the next session boundary (:func:`apply_staged`), never during a session.

On disk, in the bundle directory (``bundle_dir`` in the agent's settings)::

    v7/            a complete configuration directory: kiosk.yaml, and the bundle's services.yaml and
                   pictograms/ (checked SVG files) when it carries the catalog, else pictograms -> the
                   installed ones
    staged -> v8   the verified bundle waiting for a session boundary (a symbolic link, swapped atomically)
    current -> v7  the applied bundle the kiosk loads (absent: the installed configuration, config_dir)
    agent-status.json   the last refused version and why, and what was last reported to the server

A bundle that fails any step is refused whole: nothing of it is kept, the kiosk keeps what it had, and
the refusal is reported to the server (``POST /api/v1/bundle/status``) for the machine's page.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

from kiosk.agent import bundles_format
from kiosk.atomic_swap import point_link, write_json
from kiosk.agent.bundles_format import BUNDLE_PATH, BUNDLE_STATUS_PATH, BundleRefused

log = logging.getLogger("kiosk.agent")

STAGED, CURRENT, STATUS_FILE, SITE_FILE = "staged", "current", "agent-status.json", "kiosk.yaml"
CATALOG_FILE = "services.yaml"
# A refused version is asked for again after this long: a download cut by a flaky 4G link fails the
# signature exactly like a forged one, and must not keep a kiosk off the newest version until the next edit.
REFUSED_RETRY_S = 3600


@dataclass(frozen=True)
class BundlePaths:
    bundle_dir: Path
    config_dir: Path      # the installed configuration (catalog, pictograms, the point's own kiosk.yaml)
    public_key: Path      # the fleet's Ed25519 public key (PEM), installed by the playbooks


def _version_of(link: Path) -> int | None:
    try:
        name = os.readlink(link)
    except OSError:
        return None
    return int(name[1:]) if name.startswith("v") and name[1:].isdigit() else None


def staged_version(bundle_dir: Path) -> int | None:
    return _version_of(Path(bundle_dir) / STAGED)


def applied_version(bundle_dir: Path) -> int | None:
    return _version_of(Path(bundle_dir) / CURRENT)


def active_config_dir(bundle_dir: Path | None, config_dir: Path) -> Path:
    """The directory the kiosk loads its configuration from: the applied bundle, else the installed one."""
    if bundle_dir is not None and applied_version(bundle_dir) is not None:
        return Path(bundle_dir) / CURRENT
    return Path(config_dir)


def apply_staged(bundle_dir: Path) -> int | None:
    """At a session boundary (a session just wiped, or the kiosk starting): make the staged bundle the
    applied one. The version applied, or None when nothing was staged. Call it ONLY between sessions."""
    bundle_dir = Path(bundle_dir)
    version = staged_version(bundle_dir)
    if version is None:
        return None
    point_link(bundle_dir, CURRENT, f"v{version}")
    (bundle_dir / STAGED).unlink(missing_ok=True)
    _prune(bundle_dir)
    return version


def _prune(bundle_dir: Path) -> None:
    """Remove old version directories: the staged, the applied and the newest other one stay."""
    keep = {staged_version(bundle_dir), applied_version(bundle_dir)}
    versions = sorted(int(p.name[1:]) for p in bundle_dir.glob("v*") if p.name[1:].isdigit() and p.is_dir())
    for version in [v for v in versions if v not in keep][:-1]:
        shutil.rmtree(bundle_dir / f"v{version}", ignore_errors=True)


def _read_status(bundle_dir: Path) -> dict:
    try:
        status = json.loads((bundle_dir / STATUS_FILE).read_text())
        return status if isinstance(status, dict) else {}
    except (OSError, ValueError):
        return {}


def _write_status(bundle_dir: Path, status: dict) -> None:
    write_json(bundle_dir / STATUS_FILE, status)


class BundlePuller:
    """The agent's half: after each successful check-in, pull, verify and stage; report what happened."""

    def __init__(self, paths: BundlePaths, commune_insee: str, client) -> None:
        self.paths = paths
        self.commune_insee = commune_insee
        self.client = client
        paths.bundle_dir.mkdir(parents=True, exist_ok=True)

    # -- what the server is told ---------------------------------------------------------------------
    def state(self) -> dict:
        status = _read_status(self.paths.bundle_dir)
        return {"applied_version": applied_version(self.paths.bundle_dir),
                "staged_version": staged_version(self.paths.bundle_dir),
                "refused_version": status.get("refused_version"), "refusal": status.get("refusal")}

    def report_if_changed(self, token: str) -> bool:
        """Send the bundle status when it differs from the last one the server acknowledged."""
        state = self.state()
        report = {"applied_version": state["applied_version"] or state["staged_version"],
                  "refused_version": state["refused_version"], "refusal": state["refusal"]}
        status = _read_status(self.paths.bundle_dir)
        if status.get("reported") == report:
            return False
        answer = self.client.post(BUNDLE_STATUS_PATH, report, token)
        if answer.status == 200:
            _write_status(self.paths.bundle_dir, {**status, "reported": report})
            return True
        log.error("bundle status refused by the server (HTTP %d): %s", answer.status, answer.body.get("error"))
        return False

    # -- pulling -------------------------------------------------------------------------------------
    def after_checkin(self, token: str, answer_body: dict, now: float | None = None) -> None:
        """Called with each successful check-in's answer. Server trouble raises ServerUnreachable."""
        now = time.time() if now is None else now
        wanted = answer_body.get("bundle_version")
        if isinstance(wanted, int) and not isinstance(wanted, bool) and wanted >= 1:
            state = self.state()
            refused_at = _read_status(self.paths.bundle_dir).get("refused_at") or 0
            recently_refused = wanted == state["refused_version"] and now - refused_at < REFUSED_RETRY_S
            if wanted not in (state["applied_version"], state["staged_version"]) and not recently_refused:
                self.pull(token, wanted)
        self.report_if_changed(token)

    def pull(self, token: str, wanted: int) -> int | None:
        """Fetch, verify and stage the bundle; the version staged, or None (refused, or nothing new)."""
        status = _read_status(self.paths.bundle_dir)
        headers = {"If-None-Match": status["etag"]} if status.get("etag") else {}
        code, answer_headers, payload = self.client.get(BUNDLE_PATH, token, headers,
                                                        max_bytes=bundles_format.MAX_BUNDLE_BYTES)
        if code == 304:
            return None
        if code != 200:
            log.error("bundle %d not fetched (HTTP %d)", wanted, code)
            return None
        try:
            version = self._verify_and_stage(payload, answer_headers)
        except BundleRefused as refused:
            reason = str(refused)[:300]
            log.error("configuration bundle %d refused, the current configuration stays: %s", wanted, reason)
            _write_status(self.paths.bundle_dir, {**_read_status(self.paths.bundle_dir),
                                                  "refused_version": wanted, "refusal": reason,
                                                  "refused_at": time.time()})
            return None
        _write_status(self.paths.bundle_dir, {**_read_status(self.paths.bundle_dir),
                                              "etag": answer_headers.get("etag")})
        log.info("configuration bundle %d verified and staged for the next session boundary", version)
        return version

    def _verify_and_stage(self, payload: bytes, headers: dict[str, str]) -> int:
        signature = bundles_format.signature_bytes(headers.get(bundles_format.SIGNATURE_HEADER.lower()))
        try:
            public_key = self.paths.public_key.read_bytes()
        except OSError as error:
            raise BundleRefused(f"the fleet public key {self.paths.public_key} is unreadable ({error.strerror})") from None
        try:
            bundles_format.verify(public_key, payload, signature)
        except ValueError as error:  # BundleRefused, or a key file that is no PEM key
            raise BundleRefused(str(error)) from None
        document = bundles_format.decode(payload)
        if document["commune_insee"] != self.commune_insee:
            raise BundleRefused(f"bundle of commune {document['commune_insee']}, not {self.commune_insee}")
        return self._stage(document["version"], document["site"], document.get("catalog"), document.get("pictograms"))

    def _stage(self, version: int, site: dict, catalog: dict | None = None, pictograms: dict | None = None) -> int:
        bundle_dir = self.paths.bundle_dir
        final = bundle_dir / f"v{version}"
        building = bundle_dir / f".v{version}.building"
        shutil.rmtree(building, ignore_errors=True)
        building.mkdir()
        try:
            # The agent's umask is 0077; the kiosk (the bundle directory's group) must read what it applies.
            os.chmod(building, 0o750)
            (building / SITE_FILE).write_text(yaml.safe_dump(self._site_file(site, catalog is not None),
                                                             allow_unicode=True, sort_keys=False), encoding="utf-8")
            os.chmod(building / SITE_FILE, 0o640)
            if catalog is None:  # a bundle of the commune's settings only: the installed catalog and pictograms
                os.symlink((self.paths.config_dir / "pictograms").resolve(), building / "pictograms")
            else:
                _write_catalog(building, catalog, pictograms, self.paths.config_dir / "pictograms")
            _check_with_kiosk_validation(building)
            if final.exists():
                shutil.rmtree(final)
            os.rename(building, final)
        except BaseException:
            shutil.rmtree(building, ignore_errors=True)
            raise
        point_link(bundle_dir, STAGED, final.name)
        _prune(bundle_dir)
        return version

    def _site_file(self, site: dict, own_catalog: bool) -> dict:
        """The bundle's site with what stays the point's own: the catalog's path (the bundle's own catalog
        when it carries one) and the fleet's address."""
        document = {key: value for key, value in site.items() if key not in ("catalog", "fleet")}
        installed = _installed_site(self.paths.config_dir)
        if own_catalog:
            document["catalog"] = CATALOG_FILE
        else:
            document["catalog"] = str((self.paths.config_dir / installed.get("catalog", "services.yaml")).resolve())
        if isinstance(installed.get("fleet"), dict):
            document["fleet"] = installed["fleet"]
        return document


def _write_catalog(building: Path, catalog: dict, pictograms: dict, installed_pictograms: Path) -> None:
    """The bundle's catalog and pictograms as files, each pictogram checked first (name, size, content:
    nothing that runs or fetches); the installed pictograms the bundle lacks (a town hall's own tile)
    are copied beside them. Any refused pictogram refuses the whole bundle."""
    from kiosk.config.pictograms import MAX_PICTOGRAMS, PictogramRefused, check_pictogram_name, check_svg
    if len(pictograms) > MAX_PICTOGRAMS:
        raise BundleRefused(f"invalid configuration: more than {MAX_PICTOGRAMS} pictograms")
    directory = building / "pictograms"
    directory.mkdir(mode=0o750)
    for name, text in pictograms.items():
        data = text.encode("utf-8")
        try:
            check_pictogram_name(name)
            check_svg(data)
        except PictogramRefused as refused:
            raise BundleRefused(f"invalid configuration: pictogram {name[:70]!r} refused ({refused})") from None
        (directory / name).write_bytes(data)
        os.chmod(directory / name, 0o640)
    for picture in sorted(installed_pictograms.glob("*.svg")) if installed_pictograms.is_dir() else []:
        if not (directory / picture.name).exists():
            shutil.copyfile(picture, directory / picture.name)
            os.chmod(directory / picture.name, 0o640)
    (building / CATALOG_FILE).write_text(yaml.safe_dump(catalog, allow_unicode=True, sort_keys=False), encoding="utf-8")
    os.chmod(building / CATALOG_FILE, 0o640)


def _installed_site(config_dir: Path) -> dict:
    try:
        data = yaml.safe_load((config_dir / SITE_FILE).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError):
        return {}
    return data if isinstance(data, dict) else {}


def _check_with_kiosk_validation(directory: Path) -> None:
    """The checks ``kiosk check-config`` runs (pydantic models, catalog, pictograms), imported only here:
    the agent stays light until a bundle arrives."""
    from kiosk.config import ConfigError, load_config
    try:
        load_config(directory)
    except ConfigError as error:
        first = "; ".join(f"{problem.field}: {problem.message}" for problem in error.problems[:3])
        raise BundleRefused(f"invalid configuration ({len(error.problems)} problem(s)): {first}") from None
