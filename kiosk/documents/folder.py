"""The session's documents folder: where downloads land, what "Mes documents" and the upload
picker show, and what the end of a session empties.

Only a few harmless kinds of files are kept (PDF, images, plain text); anything else (scripts,
programs, archives) is refused before it is written. Files from a USB stick are copied in,
read-only, so the stick itself is never handed to a web page.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import stat
import unicodedata
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

KINDS = {".pdf": "pdf", ".png": "image", ".jpg": "image", ".jpeg": "image", ".txt": "text"}
USB_FOLDER = "cle-usb"
MAX_USB_FILE_BYTES = 25 * 1024 * 1024
MAX_USB_FILES = 50


@dataclass(frozen=True)
class Document:
    name: str          # the file name, also its identifier in URLs
    kind: str          # pdf, image or text
    size_bytes: int
    from_usb: bool

    @property
    def path_key(self) -> str:
        return f"{USB_FOLDER}/{self.name}" if self.from_usb else self.name


def safe_name(suggested: str) -> str | None:
    """A plain file name for ``suggested`` (no folders, no odd characters), or None when its kind
    is not accepted."""
    name = os.path.basename(suggested.replace("\\", "/")).strip()
    name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    name = re.sub(r"[^A-Za-z0-9._ -]", "_", name).strip(" .")
    stem, ext = os.path.splitext(name)
    ext = ext.lower()
    if ext not in KINDS or not stem:
        return None
    return f"{stem[:80]}{ext}"


class SessionDocuments:
    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.folder, 0o700)

    def destination_for(self, suggested: str) -> Path | None:
        """Where to save a download named ``suggested``; None to refuse it."""
        name = safe_name(suggested or "")
        if name is None:
            return None
        stem, ext = os.path.splitext(name)
        candidate, number = self.folder / name, 2
        while candidate.exists():
            candidate, number = self.folder / f"{stem} ({number}){ext}", number + 1
        return candidate

    def documents(self) -> list[Document]:
        found = []
        for directory, from_usb in ((self.folder, False), (self.folder / USB_FOLDER, True)):
            if not directory.is_dir():
                continue
            for path in sorted(directory.iterdir(), key=lambda item: item.name.lower()):
                kind = KINDS.get(path.suffix.lower())
                if kind and path.is_file() and not path.is_symlink():
                    found.append(Document(path.name, kind, path.stat().st_size, from_usb))
        return found

    def path_of(self, key: str) -> Path | None:
        """The file for a document key (``name`` or ``cle-usb/name``), None if there is no such document."""
        for document in self.documents():
            if document.path_key == key:
                return (self.folder / key)
        return None

    def import_usb(self, roots) -> int:
        """Copy the accepted files found on mounted USB sticks under ``roots``, read-only."""
        target = self.folder / USB_FOLDER
        copied = 0
        for root in roots:
            root = Path(root)
            if not root.is_dir():
                continue
            for path in sorted(_files_under(root)):
                if copied >= MAX_USB_FILES:
                    return copied
                name = safe_name(path.name)
                try:
                    if name is None or path.stat().st_size > MAX_USB_FILE_BYTES:
                        continue
                    target.mkdir(mode=0o700, exist_ok=True)
                    destination = target / name
                    if destination.exists():
                        continue
                    shutil.copyfile(path, destination)
                    os.chmod(destination, stat.S_IRUSR | stat.S_IRGRP)
                    copied += 1
                except OSError as error:
                    log.warning("could not copy a file from a USB stick: %s", error)
        return copied

    def wipe(self) -> None:
        """Remove every document of the session (the folder itself stays)."""
        for path in self.folder.iterdir():
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()


def _files_under(root: Path, depth: int = 3):
    if depth < 0:
        return
    try:
        entries = list(root.iterdir())
    except OSError as error:
        log.warning("could not read %s: %s", root, error)
        return
    for entry in entries:
        if entry.is_symlink():
            continue
        if entry.is_dir():
            yield from _files_under(entry, depth - 1)
        elif entry.is_file():
            yield entry
