"""Where releases live on the kiosk, and the links that say which one runs.

Two directories, two owners (least privilege)::

    releases_dir/ (the agent's; the kiosk user reads)     switch_dir/ (the kiosk session's)
        1.3.0/      a virtual environment, complete            current  -> releases_dir/1.4.0
        1.4.0/      ... (``.complete`` marks a whole one)      previous -> releases_dir/1.3.0
        staged -> 1.4.0   installed, waiting for a boundary    switch.json  the last switch, its outcome

The agent downloads, verifies and installs into ``releases_dir`` and points ``staged``; the launcher (the
session's first process, run from the version the playbooks installed) switches ``current`` at a session
boundary and back when the new version is not healthy. No ``current``: the installed version runs. The
launcher follows ``current`` only to a complete release inside ``releases_dir``.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from kiosk.atomic_swap import point_link, write_json  # noqa: F401 (the releases' links and records)
from kiosk.updates.manifest import valid_version

STAGED, CURRENT, PREVIOUS, SWITCH_FILE, COMPLETE = "staged", "current", "previous", "switch.json", ".complete"
ROLLED_BACK_KEPT = 10


@dataclass(frozen=True)
class ReleasePaths:
    releases_dir: Path
    switch_dir: Path

    def release(self, version: str) -> Path:
        return self.releases_dir / version

    def is_installed(self, version: str | None) -> bool:
        return bool(version) and valid_version(version) and (self.release(version) / COMPLETE).is_file()


def link_version(paths: ReleasePaths, link: Path) -> str | None:
    """The version a link names, when it names a complete release inside ``releases_dir``; else None."""
    try:
        target = Path(os.readlink(link))
    except OSError:
        return None
    if not target.is_absolute():
        target = link.parent / target
    if target.parent != paths.releases_dir:
        return None
    return target.name if paths.is_installed(target.name) else None


def staged_version(paths: ReleasePaths) -> str | None:
    return link_version(paths, paths.releases_dir / STAGED)


def current_version(paths: ReleasePaths) -> str | None:
    return link_version(paths, paths.switch_dir / CURRENT)


def previous_version(paths: ReleasePaths) -> str | None:
    return link_version(paths, paths.switch_dir / PREVIOUS)


def read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def switch_record(paths: ReleasePaths) -> dict:
    return read_json(paths.switch_dir / SWITCH_FILE)


def rolled_back_versions(paths: ReleasePaths) -> list[str]:
    versions = switch_record(paths).get("rolled_back_versions")
    return [v for v in versions if isinstance(v, str)] if isinstance(versions, list) else []


def prune(paths: ReleasePaths) -> list[str]:
    """Remove release directories other than the current, previous and staged ones; the names removed."""
    keep = {current_version(paths), previous_version(paths), staged_version(paths)}
    removed = []
    for entry in sorted(paths.releases_dir.iterdir()) if paths.releases_dir.is_dir() else []:
        if entry.is_dir() and not entry.is_symlink() and valid_version(entry.name) and entry.name not in keep:
            shutil.rmtree(entry, ignore_errors=True)
            removed.append(entry.name)
    return removed
