"""The kiosk's atomic writes on disk: a symbolic link swapped to a new target, a JSON file replaced whole.

A power cut at any instant leaves the old or the new, never nothing and never half a file: the new one
is written beside, flushed, then renamed over the old (``rename`` is atomic on one file system), and the
directory is flushed so the rename itself survives. Used by the configuration bundles (kiosk/agent),
the remote actions' journal and the software releases (kiosk/updates).
"""

from __future__ import annotations

import json
import os
from pathlib import Path


def fsync_dir(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def point_link(directory: Path, name: str, target: str | os.PathLike) -> None:
    """Make ``directory/name`` a symbolic link to ``target`` atomically (the old or the new, never none)."""
    directory = Path(directory)
    temporary = directory / f".{name}.new"
    if temporary.is_symlink() or temporary.exists():
        temporary.unlink()
    os.symlink(target, temporary)
    os.replace(temporary, directory / name)
    fsync_dir(directory)


def write_json(path: Path, document, mode: int | None = None) -> None:
    """``document`` written whole or not at all (temporary file, fsync, rename), with ``mode`` if given."""
    path = Path(path)
    temporary = path.with_name("." + path.name + ".tmp")
    with open(temporary, "w", encoding="utf-8") as file:
        json.dump(document, file, ensure_ascii=False)
        file.flush()
        os.fsync(file.fileno())
    if mode is not None:
        os.chmod(temporary, mode)
    os.replace(temporary, path)
