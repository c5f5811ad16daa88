"""The agent's half of kiosk software updates: when the check-in answer names a release for this
machine's ring, download it into a staging directory, verify it whole (the fleet key's signature of the
manifest, then the size and sha256 of every file), install it beside the running version, mark it
``staged`` for the launcher, and report each step — and the launcher's outcome (switched, rolled back)
— to the server (``POST /api/v1/releases/status``).

Downloads are resume-safe: a file arrives as ``<name>.part`` (continued with ``Range`` after a cut) and
is renamed only once its size and sha256 match the manifest. A release that fails any check is refused
whole: its staging directory is deleted, nothing is installed, the refusal is reported, and it is not
tried again for an hour.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from pathlib import Path

import kiosk
from kiosk.updates import manifest as release_manifest
from kiosk.updates.install import DEFAULT_EXTRAS, InstallFailed, install
from kiosk.updates.layout import (ReleasePaths, current_version, point_link, prune, read_json, rolled_back_versions,
                                  staged_version, switch_record, write_json, STAGED)
from kiosk.updates.manifest import ReleaseRefused

log = logging.getLogger("kiosk.agent")
STATUS_FILE = "agent-status.json"
FAILED_RETRY_S = 3600
CHUNK_BYTES = 4 * 1024 * 1024


class ReleasePuller:
    def __init__(self, paths: ReleasePaths, staging_dir: Path, public_key: Path, client,
                 extras: tuple[str, ...] = DEFAULT_EXTRAS) -> None:
        self.paths, self.staging_dir, self.public_key, self.client, self.extras = (
            paths, Path(staging_dir), Path(public_key), client, extras)
        self.staging_dir.mkdir(parents=True, exist_ok=True)
        paths.releases_dir.mkdir(parents=True, exist_ok=True)

    # -- what the agent remembers --------------------------------------------------------------------
    def _status(self) -> dict:
        return read_json(self.staging_dir / STATUS_FILE)

    def _save(self, **changes) -> None:
        write_json(self.staging_dir / STATUS_FILE, {**self._status(), **changes})

    def running_version(self) -> str:
        return current_version(self.paths) or kiosk.__version__

    # -- after each check-in -------------------------------------------------------------------------
    def after_checkin(self, token: str, answer_body: dict, now: float | None = None) -> str | None:
        """Handle the answer's ``release`` key; the version staged this time, if any. Server trouble
        raises ServerUnreachable (the caller retries at the next check-in)."""
        now = time.time() if now is None else now
        self.report_switch(token)
        release = answer_body.get("release")
        if not isinstance(release, dict) or not release_manifest.valid_version(release.get("version")):
            return None
        version = release["version"]
        status = self._status()
        if (version in (self.running_version(), staged_version(self.paths))
                or version in rolled_back_versions(self.paths)
                or (status.get("failed_version") == version and now - status.get("failed_at", 0) < FAILED_RETRY_S)):
            return None
        return self.pull(token, version)

    def pull(self, token: str, version: str) -> str | None:
        staging = self.staging_dir / version
        try:
            document = self._fetch_manifest(token, version)
            self._download_all(token, version, document, staging)
            self.report(token, "downloaded", version)
            install(self.paths, version, document["package"], staging, self.extras)
        except (ReleaseRefused, InstallFailed) as refused:
            reason = str(refused)[:300]
            log.error("release %s refused, the running version stays: %s", version, reason)
            shutil.rmtree(staging, ignore_errors=True)
            self._save(failed_version=version, failed_at=time.time())
            self.report(token, "failed", version, reason)
            return None
        point_link(self.paths.releases_dir, STAGED, version)
        shutil.rmtree(staging, ignore_errors=True)
        prune(self.paths)
        self.report(token, "installed", version)
        log.info("release %s installed; the kiosk switches to it at the next session boundary", version)
        return version

    def _fetch_manifest(self, token: str, version: str) -> dict:
        code, headers, payload = self.client.get(release_manifest.manifest_url(version), token,
                                                 max_bytes=release_manifest.MAX_MANIFEST_BYTES)
        if code != 200:
            raise ReleaseRefused(f"manifest not fetched (HTTP {code})")
        try:
            public_key = self.public_key.read_bytes()
        except OSError as error:
            raise ReleaseRefused(f"the fleet public key {self.public_key} is unreadable ({error.strerror})") from None
        release_manifest.verify(public_key, payload, headers.get(release_manifest.SIGNATURE_HEADER.lower()))
        return release_manifest.decode(payload, version)

    def _download_all(self, token: str, version: str, document: dict, staging: Path) -> None:
        staging.mkdir(parents=True, exist_ok=True)
        wanted = {entry["name"] for entry in document["files"]}
        for stray in staging.iterdir():  # anything not in this manifest (an earlier, different attempt)
            if stray.name.removesuffix(".part") not in wanted:
                stray.unlink()
        for entry in document["files"]:
            self._download(token, version, entry, staging)

    def _download(self, token: str, version: str, entry: dict, staging: Path) -> None:
        final, part = staging / entry["name"], staging / (entry["name"] + ".part")
        if final.is_file() and final.stat().st_size == entry["size"] and release_manifest.sha256_of(final) == entry["sha256"]:
            return
        final.unlink(missing_ok=True)
        have = part.stat().st_size if part.is_file() else 0
        if have >= entry["size"]:
            part.unlink()
            have = 0
        while have < entry["size"]:
            headers = {"Range": f"bytes={have}-{min(entry['size'], have + CHUNK_BYTES) - 1}"}
            code, _, body = self.client.get(release_manifest.file_url(version, entry["name"]), token, headers,
                                            max_bytes=CHUNK_BYTES)
            if code == 200 and have == 0:
                body = body[:entry["size"] + 1]
            elif code != 206 or not body:
                raise ReleaseRefused(f"{entry['name']} not fetched (HTTP {code})")
            with open(part, "ab") as file:
                file.write(body)
                file.flush()
                os.fsync(file.fileno())
            have += len(body)
            if code == 200:
                break
        if part.stat().st_size != entry["size"]:
            part.unlink()
            raise ReleaseRefused(f"{entry['name']}: size differs from the manifest")
        if release_manifest.sha256_of(part) != entry["sha256"]:
            part.unlink()
            raise ReleaseRefused(f"{entry['name']}: sha256 differs from the manifest (tampered or damaged)")
        os.replace(part, final)

    # -- reporting -----------------------------------------------------------------------------------
    def report(self, token: str, state: str, version: str, reason: str | None = None) -> bool:
        document = {"state": state, "version": version, "running_version": self.running_version()}
        if reason:
            document["reason"] = reason[:300]
        answer = self.client.post(release_manifest.RELEASE_STATUS_PATH, document, token)
        if answer.status != 200:
            log.error("release status refused by the server (HTTP %d): %s", answer.status, answer.body.get("error"))
            return False
        return True

    def report_switch(self, token: str) -> None:
        """Tell the server what the launcher decided (switched, rolled back), once per outcome."""
        record = switch_record(self.paths)
        outcome, version = record.get("outcome"), record.get("to")
        if outcome not in ("switched", "rolled_back") or not release_manifest.valid_version(version):
            return
        key = f"{outcome}:{version}:{record.get('switched_at')}"
        if self._status().get("reported_switch") == key:
            return
        reason = record.get("reason") if isinstance(record.get("reason"), str) else None
        if self.report(token, outcome, version, reason):
            self._save(reported_switch=key)


def release_puller(settings, client) -> "SafeReleasePuller":
    """The agent's puller, from its settings (kiosk.agent.settings.AgentSettings)."""
    paths = ReleasePaths(Path(settings.releases_dir), Path(settings.release_switch_dir))
    return SafeReleasePuller(paths, settings.release_staging_dir, settings.bundle_public_key, client)


class SafeReleasePuller(ReleasePuller):
    def after_checkin_safely(self, token: str, answer_body: dict, now: float) -> None:
        """Never stops the uploads: server trouble is for the next check-in, anything else is logged."""
        from kiosk.agent.uploader import ServerUnreachable
        try:
            self.after_checkin(token, answer_body, now)
        except ServerUnreachable as error:
            log.warning("release not handled this time, server unreachable (%s)", error)
        except Exception as error:  # noqa: BLE001 - a full disk, a surprise: the running version stays
            log.error("release not handled this time (%r); the running version stays", error)
