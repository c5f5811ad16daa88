"""Kiosk software releases on the fleet server (issue 12): publish a wheelhouse as a signed release,
assign machines to rings, point a ring at a version, tell each kiosk on check-in which version its ring
should run, and record what kiosks report (downloaded … switched, rolled back, failed).

On disk, under the ``releases_dir`` setting, one directory per version, written whole or not at all::

    1.4.0/manifest.json   the canonical manifest (kiosk.updates.manifest), sha256 and size of each file
    1.4.0/manifest.sig    the fleet key's Ed25519 signature of manifest.json (base64)
    1.4.0/files/*.whl     the wheels, as published
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import time
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import Connection, Engine

from kiosk.updates import manifest as release_manifest
from provisioning.fleet.store import hot_sql
from provisioning.fleet.store.engine import read_transaction, write_transaction
from provisioning.fleet.store.releases_schema import (DEFAULT_RING, REASON_MAX_CHARS, RINGS, STATES, machine_status,
                                                      releases, ring_targets)
from provisioning.fleet.store.schema import devices

# Read on the check-in's driver connection once the batch is stored: the ring target and what the
# machine last reported running (both primary-key reads).
TARGET_FOR_DEVICE = """
SELECT t.version, s.running_version, d.kiosk_version
FROM devices d LEFT JOIN rel_machine_status s ON s.device_id = d.id
JOIN rel_ring_targets t ON t.ring = COALESCE(s.ring, 'tous')
WHERE d.id = :device_id
"""


class ReleaseError(ValueError):
    """A release operation refused; the message (French) says what is wrong."""


def _wheel_prefix(package: str, version: str) -> str:
    return re.sub(r"[-_.]+", "_", package).lower() + "-" + version + "-"


def publish(engine: Engine, releases_dir: Path, wheelhouse: Path, version: str, signing_key, by: str,
            now: float | None = None, package: str = "mairie-kiosk") -> dict:
    """Store the wheels of ``wheelhouse`` as release ``version`` with its signed manifest; the manifest."""
    now = time.time() if now is None else now
    if not release_manifest.valid_version(version):
        raise ReleaseError(f"version « {version} » invalide : ex. 1.4.0 (chiffres, lettres, points, au plus 40).")
    wheelhouse = Path(wheelhouse)
    wheels = sorted(path for path in wheelhouse.glob("*.whl") if path.is_file())
    if not wheels:
        raise ReleaseError(f"{wheelhouse} ne contient aucun paquet .whl.")
    bad = [path.name for path in wheels if not release_manifest.FILE_NAME.match(path.name)]
    if bad:
        raise ReleaseError(f"nom de paquet refusé : {bad[0]} (lettres, chiffres, . _ + ! -).")
    if not any(path.name.lower().startswith(_wheel_prefix(package, version)) for path in wheels):
        raise ReleaseError(f"{wheelhouse} ne contient pas le paquet {package} en version {version}.")
    files = []
    for path in wheels:
        size = path.stat().st_size
        if not 0 < size <= release_manifest.MAX_FILE_BYTES:
            raise ReleaseError(f"{path.name} : taille hors limites ({size} octets).")
        files.append({"name": path.name, "sha256": release_manifest.sha256_of(path), "size": size})
    document = {"format": release_manifest.MANIFEST_FORMAT, "package": package, "version": version,
                "published_at": now, "files": files}
    payload = release_manifest.encode(document)
    release_manifest.decode(payload, version)  # the same bounds the kiosks apply
    releases_dir = Path(releases_dir)
    final = releases_dir / version

    def published() -> bool:
        return final.exists() or conn.execute(
            sa.select(releases.c.version).where(releases.c.version == version)).first() is not None

    with read_transaction(engine) as conn:
        if published():
            raise ReleaseError(f"la version {version} est déjà publiée : une version publiée ne change plus.")
    # Copied outside the write transaction (a wheelhouse is tens of MB: check-ins must not wait for it).
    building = releases_dir / f".{version}.building"
    shutil.rmtree(building, ignore_errors=True)
    (building / "files").mkdir(parents=True)
    try:
        for path in wheels:
            shutil.copyfile(path, building / "files" / path.name)
        (building / "manifest.json").write_bytes(payload)
        (building / "manifest.sig").write_text(release_manifest.signature_text(signing_key.sign(payload)))
        with write_transaction(engine) as conn:
            if published():
                raise ReleaseError(f"la version {version} est déjà publiée : une version publiée ne change plus.")
            conn.execute(releases.insert().values(
                version=version, package=package, file_count=len(files), total_bytes=sum(f["size"] for f in files),
                manifest_sha256=hashlib.sha256(payload).hexdigest(), published_at=now, published_by=by[:64]))
            os.rename(building, final)  # inside the transaction: a failed rename leaves no row
    except BaseException:
        shutil.rmtree(building, ignore_errors=True)
        raise
    return document


def release_dir(releases_dir: Path, version: str) -> Path | None:
    """The directory of a published release, or None (an unknown or malformed version)."""
    if not release_manifest.valid_version(version):
        return None
    path = Path(releases_dir) / version
    return path if (path / "manifest.json").is_file() else None


def promote(engine: Engine, version: str, ring: str, by: str, now: float | None = None) -> None:
    """Make ``version`` the one the machines of ``ring`` should run."""
    now = time.time() if now is None else now
    if ring not in RINGS:
        raise ReleaseError(f"anneau « {ring} » inconnu : {' ou '.join(RINGS)}.")
    with write_transaction(engine) as conn:
        if conn.execute(sa.select(releases.c.version).where(releases.c.version == version)).first() is None:
            raise ReleaseError(f"aucune version {version} publiée (fleet release publish d'abord).")
        values = {"version": version, "promoted_at": now, "promoted_by": by[:64]}
        if conn.execute(ring_targets.update().where(ring_targets.c.ring == ring).values(**values)).rowcount == 0:
            conn.execute(ring_targets.insert().values(ring=ring, **values))


def assign_ring(engine: Engine, asset_tags: list[str], ring: str) -> int:
    """Put the machines named by their asset tags in ``ring``; all or none (unknown tags are named)."""
    if ring not in RINGS:
        raise ReleaseError(f"anneau « {ring} » inconnu : {' ou '.join(RINGS)}.")
    with write_transaction(engine) as conn:
        found = dict(conn.execute(sa.select(devices.c.asset_tag, devices.c.id)
                                  .where(devices.c.asset_tag.in_(asset_tags))).all())
        missing = [tag for tag in asset_tags if tag not in found]
        if missing:
            raise ReleaseError(f"borne(s) inconnue(s) : {', '.join(missing[:10])}.")
        for device_id in found.values():
            _upsert_status(conn, device_id, {"ring": ring})
    return len(found)


def _upsert_status(conn: Connection, device_id: int, values: dict) -> None:
    if conn.execute(machine_status.update().where(machine_status.c.device_id == device_id)
                    .values(**values)).rowcount == 0:
        conn.execute(machine_status.insert().values(device_id=device_id, **{"ring": DEFAULT_RING, **values}))


def with_release_on(dbapi_connection, dialect: str, device_id: int, answer: dict) -> dict:
    """The check-in answer with its optional ``release`` key ({version, manifest_url}) when the machine's
    ring should run another version than the one it reports."""
    release = release_for_device_on(dbapi_connection, dialect, device_id)
    return answer if release is None else {**answer, "release": release}


def release_for_device_on(dbapi_connection, dialect: str, device_id: int) -> dict | None:
    """The ring's target when the machine runs another version, else None. On the check-in's driver
    connection (left with no transaction)."""
    row = hot_sql.fetch_one_on(dbapi_connection, dialect, TARGET_FOR_DEVICE, {"device_id": device_id})
    if row is None or row[0] == (row[1] or row[2]):
        return None
    return {"version": row[0], "manifest_url": release_manifest.manifest_url(row[0])}


def record_status(engine: Engine, device_id: int, state: str, version: str, running: str | None,
                  reason: str | None, now: float) -> None:
    """What a kiosk reports about a release (already validated by the API)."""
    assert state in STATES
    with write_transaction(engine) as conn:
        values = {"state": state, "state_version": version, "reason": reason[:REASON_MAX_CHARS] if reason else None,
                  "reported_at": now}
        if running is not None:
            values["running_version"] = running
        _upsert_status(conn, device_id, values)


def list_releases(conn: Connection) -> list[dict]:
    rows = conn.execute(sa.select(releases).order_by(releases.c.published_at.desc()).limit(50)).all()
    return [dict(row._mapping) for row in rows]


def ring_targets_of(conn: Connection) -> dict[str, str]:
    return dict(conn.execute(sa.select(ring_targets.c.ring, ring_targets.c.version)).all())


def machines(conn: Connection) -> list[dict]:
    """Every enrolled machine with its ring, target, running version and last reported step."""
    targets = ring_targets_of(conn)
    rows = conn.execute(
        sa.select(devices.c.asset_tag, devices.c.commune_insee, devices.c.kiosk_version, machine_status.c.ring,
                  machine_status.c.running_version, machine_status.c.state, machine_status.c.state_version,
                  machine_status.c.reason, machine_status.c.reported_at)
        .select_from(devices.outerjoin(machine_status, machine_status.c.device_id == devices.c.id))
        .order_by(devices.c.asset_tag)).all()
    result = []
    for row in rows:
        ring = row.ring or DEFAULT_RING
        result.append({"asset_tag": row.asset_tag, "commune_insee": row.commune_insee, "ring": ring,
                       "target": targets.get(ring), "running": row.running_version or row.kiosk_version,
                       "state": row.state, "state_version": row.state_version, "reason": row.reason,
                       "reported_at": row.reported_at})
    return result


def where_machines_stand(engine: Engine) -> dict:
    """For the « Versions » page: releases, ring targets, machines, and per (version, ring) the counts of
    machines targeted, downloaded, installed, running, rolled back and failed."""
    with read_transaction(engine) as conn:
        published, targets, listed = list_releases(conn), ring_targets_of(conn), machines(conn)
    counts: dict[tuple[str, str], dict[str, int]] = {}

    def bump(version, ring, column):
        if version:
            counts.setdefault((version, ring), {key: 0 for key in COUNT_COLUMNS})[column] += 1

    for machine in listed:
        bump(machine["target"], machine["ring"], "target")
        bump(machine["running"], machine["ring"], "running")
        if machine["state"] in ("downloaded", "installed", "rolled_back", "failed"):
            bump(machine["state_version"], machine["ring"], machine["state"])
    listed.sort(key=lambda machine: machine["state"] not in ("rolled_back", "failed"))  # trouble first, stable
    return {"releases": published, "targets": targets, "machines": listed,
            "counts": [{"version": v, "ring": r, **c} for (v, r), c in sorted(counts.items(), reverse=True)]}


COUNT_COLUMNS = ("target", "downloaded", "installed", "running", "rolled_back", "failed")
