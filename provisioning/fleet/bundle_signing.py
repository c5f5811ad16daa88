"""The fleet's Ed25519 signing key: made once by ``fleet bundle-key``, read by the server to sign bundles.

The private half stays on the fleet server (mode 0600, path in ``FLEET_BUNDLE_SIGNING_KEY``); the
public half (``<key>.pub``) is installed on every kiosk by the playbooks. ``cryptography`` does the
cryptography: nothing hand-made.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


class SigningKeyError(ValueError):
    """The signing key cannot be made or read; the message (French) says what to do."""


def public_path(private_path: Path) -> Path:
    return private_path.with_name(private_path.name + ".pub")


def make_key_pair(private_path: Path) -> Path:
    """Write a new key pair: ``private_path`` (PEM, 0600) and ``<private_path>.pub``. Never overwrites."""
    private_path = Path(private_path)
    if private_path.exists() or public_path(private_path).exists():
        raise SigningKeyError(f"{private_path} existe déjà : une nouvelle clé rendrait les bornes sourdes "
                              "aux paquets de configuration. Supprimez-la d'abord si c'est voulu.")
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(private_pem)
    public_path(private_path).write_bytes(public_pem)
    return public_path(private_path)


def load_private_key(private_path: str | Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(Path(private_path).read_bytes(), password=None)
    except OSError as error:
        raise SigningKeyError(f"clé de signature illisible : {private_path} ({error.strerror}).") from None
    except ValueError:
        raise SigningKeyError(f"{private_path} n'est pas une clé privée PEM.") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError(f"{private_path} n'est pas une clé Ed25519 (faites-en une avec fleet bundle-key).")
    return key
