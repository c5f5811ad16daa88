"""The configuration bundle's wire format, shared by the fleet server (which builds and signs it) and the
kiosk agent (which verifies it). Nothing here imports pydantic, Flask or SQLAlchemy.

A bundle is the gzip of one canonical JSON document (sorted keys, no spaces, UTF-8, gzip mtime 0: the
same content always gives the same bytes)::

    {"format": 1, "commune_insee": "31042", "version": 7, "site": {... kiosk.yaml's part ...}}

``site`` is the commune's part of kiosk.yaml, the bus calendar in ``site.help.bus_visits``. Since the
national catalog is managed on the server too, a bundle may carry ``catalog_version``, ``catalog`` (the
content of services.yaml) and ``pictograms`` (``{file name: SVG text}``): the kiosk then uses them instead
of the installed ones (a bundle without them keeps the installed catalog). The server
signs the gzip bytes with the fleet's Ed25519 key; the signature travels base64-encoded in the
``X-Bundle-Signature`` header. Any byte changed or missing fails the signature, so a truncated download
is refused as surely as a forged one.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import zlib

from kiosk.protocol import API_PREFIX

BUNDLE_PATH = API_PREFIX + "/bundle"
BUNDLE_STATUS_PATH = API_PREFIX + "/bundle/status"
BUNDLE_FORMAT = 1
SIGNATURE_HEADER = "X-Bundle-Signature"
MAX_BUNDLE_BYTES = 512 * 1024          # on the wire (the target is 200 KB)
MAX_INFLATED_BYTES = 4 * 1024 * 1024


class BundleRefused(ValueError):
    """A bundle that must not be applied; the message (English, for the server's machine page) says why."""


def encode(content: dict) -> bytes:
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)


def decode(payload: bytes) -> dict:
    """The document inside a bundle whose signature was already checked; :class:`BundleRefused` otherwise."""
    if len(payload) > MAX_BUNDLE_BYTES:
        raise BundleRefused(f"bundle too large ({len(payload)} bytes, at most {MAX_BUNDLE_BYTES})")
    try:
        inflater = zlib.decompressobj(wbits=31)
        text = inflater.decompress(payload, MAX_INFLATED_BYTES)
        if inflater.unconsumed_tail or not inflater.eof:
            raise BundleRefused("bundle truncated or inflating beyond its bound")
        document = json.loads(text.decode("utf-8"))
    except (zlib.error, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BundleRefused(f"bundle unreadable ({error.__class__.__name__})") from None
    if not isinstance(document, dict) or document.get("format") != BUNDLE_FORMAT:
        raise BundleRefused("bundle of an unknown format")
    version = document.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise BundleRefused("bundle without a valid version")
    if not isinstance(document.get("site"), dict) or not isinstance(document.get("commune_insee"), str):
        raise BundleRefused("bundle without its site or commune")
    if "catalog" in document or "pictograms" in document:
        pictograms = document.get("pictograms")
        if not isinstance(document.get("catalog"), dict) or not isinstance(pictograms, dict):
            raise BundleRefused("bundle with a catalog but no pictograms, or the reverse")
        if not all(isinstance(name, str) and isinstance(text, str) for name, text in pictograms.items()):
            raise BundleRefused("bundle pictograms are not SVG texts")
    return document


def signature_text(signature: bytes) -> str:
    return base64.b64encode(signature).decode("ascii")


def signature_bytes(text: str | None) -> bytes:
    if not text or len(text) > 200:
        raise BundleRefused("bundle without a signature")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise BundleRefused("bundle signature malformed") from None


def verify(public_key_pem: bytes, payload: bytes, signature: bytes) -> None:
    """Raise :class:`BundleRefused` unless ``signature`` is the fleet key's Ed25519 signature of ``payload``."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    key = load_pem_public_key(public_key_pem)
    if not isinstance(key, Ed25519PublicKey):
        raise BundleRefused("the fleet public key is not an Ed25519 key")
    try:
        key.verify(signature, payload)
    except InvalidSignature:
        raise BundleRefused("bad signature: the bundle was not signed by the fleet's key") from None
