"""Pack folders into reproducible tar archives, sent to the kiosks in one piece.

Copying a folder file by file costs Ansible a round trip per file; one archive costs one, and
because the same files always give the same bytes (sorted names, fixed dates, owners and modes),
Ansible sees an unchanged archive on a re-run and changes nothing.
"""

from __future__ import annotations

import io
import tarfile
from pathlib import Path


def pack(folders: list[Path], destination: Path, pattern: str = "*") -> Path:
    """Pack the files matching ``pattern`` of ``folders`` into ``destination`` (flat; a file of a
    later folder replaces one of the same name from an earlier folder)."""
    files: dict[str, Path] = {}
    for folder in folders:
        if folder.is_dir():
            for path in folder.glob(pattern):
                if path.is_file():
                    files[path.name] = path
    destination.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(destination, "w", format=tarfile.USTAR_FORMAT) as archive:
        for name in sorted(files):
            data = files[name].read_bytes()
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            archive.addfile(info, io.BytesIO(data))
    return destination
