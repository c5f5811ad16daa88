"""A release's manifest: what the fleet server signs and the kiosk verifies before using any file.

Shared by the fleet server (which writes and signs it) and the kiosk agent (which verifies it); only the
standard library and ``cryptography`` (for the Ed25519 check). The manifest is canonical JSON (sorted
keys, no spaces, UTF-8)::

    {"format": 1, "package": "mairie-kiosk", "version": "1.4.0", "published_at": 1764300000.0,
     "files": [{"name": "mairie_kiosk-1.4.0-py3-none-any.whl", "sha256": "…", "size": 123456}, …]}

The fleet key's Ed25519 signature of those exact bytes travels base64-encoded in ``X-Release-Signature``.
Any byte changed fails the signature; any file whose size or sha256 differs is refused, and with it the
whole release.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re

from kiosk.protocol import API_PREFIX

MANIFEST_FORMAT = 1
RELEASES_PATH = API_PREFIX + "/releases"
RELEASE_STATUS_PATH = API_PREFIX + "/releases/status"
SIGNATURE_HEADER = "X-Release-Signature"
VERSION = re.compile(r"^[0-9][0-9A-Za-z.+!-]{0,39}$")   # PEP 440 versions, bounded; no "/" nor ".."
FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+!-]{0,199}\.whl$")
PACKAGE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MAX_MANIFEST_BYTES = 256 * 1024
MAX_FILES = 400
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_RELEASE_BYTES = 512 * 1024 * 1024
STATES = ("downloaded", "installed", "switched", "rolled_back", "failed")


class ReleaseRefused(ValueError):
    """A release that must not be installed; the message (English, for the server's pages) says why."""


def valid_version(text) -> bool:
    return isinstance(text, str) and bool(VERSION.match(text)) and ".." not in text


def manifest_url(version: str) -> str:
    return f"{RELEASES_PATH}/{version}/manifest"


def file_url(version: str, name: str) -> str:
    return f"{RELEASES_PATH}/{version}/files/{name}"


def encode(document: dict) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sha256_of(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def decode(payload: bytes, expected_version: str | None = None) -> dict:
    """The manifest inside ``payload`` (whose signature was already checked), every field bounded."""
    if len(payload) > MAX_MANIFEST_BYTES:
        raise ReleaseRefused(f"manifest too large ({len(payload)} bytes)")
    try:
        document = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ReleaseRefused("manifest unreadable") from None
    if not isinstance(document, dict) or document.get("format") != MANIFEST_FORMAT:
        raise ReleaseRefused("manifest of an unknown format")
    if not valid_version(document.get("version")):
        raise ReleaseRefused("manifest without a valid version")
    if expected_version is not None and document["version"] != expected_version:
        raise ReleaseRefused(f"manifest of version {document['version']}, not {expected_version}")
    if not isinstance(document.get("package"), str) or not PACKAGE.match(document["package"]):
        raise ReleaseRefused("manifest without a valid package name")
    files = document.get("files")
    if not isinstance(files, list) or not 1 <= len(files) <= MAX_FILES:
        raise ReleaseRefused("manifest without a valid list of files")
    names, total = set(), 0
    for entry in files:
        if not isinstance(entry, dict) or set(entry) != {"name", "sha256", "size"}:
            raise ReleaseRefused("manifest file entry malformed")
        name, digest, size = entry["name"], entry["sha256"], entry["size"]
        if not isinstance(name, str) or not FILE_NAME.match(name) or name in names:
            raise ReleaseRefused("manifest file name invalid or repeated")
        if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-f]{64}", digest):
            raise ReleaseRefused(f"manifest sha256 of {name} malformed")
        if not isinstance(size, int) or isinstance(size, bool) or not 0 < size <= MAX_FILE_BYTES:
            raise ReleaseRefused(f"manifest size of {name} out of bounds")
        names.add(name)
        total += size
    if total > MAX_RELEASE_BYTES:
        raise ReleaseRefused("release too large")
    return document


def signature_text(signature: bytes) -> str:
    return base64.b64encode(signature).decode("ascii")


def verify(public_key_pem: bytes, payload: bytes, signature_header: str | None) -> None:
    """Raise :class:`ReleaseRefused` unless the header holds the fleet key's signature of ``payload``."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    if not signature_header or len(signature_header) > 200:
        raise ReleaseRefused("manifest without a signature")
    try:
        signature = base64.b64decode(signature_header, validate=True)
    except (binascii.Error, ValueError):
        raise ReleaseRefused("manifest signature malformed") from None
    try:
        key = load_pem_public_key(public_key_pem)
    except ValueError:
        raise ReleaseRefused("the fleet public key is unreadable") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ReleaseRefused("the fleet public key is not an Ed25519 key")
    try:
        key.verify(signature, payload)
    except InvalidSignature:
        raise ReleaseRefused("bad signature: the manifest was not signed by the fleet's key") from None
