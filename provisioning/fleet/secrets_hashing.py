"""Device tokens and enrolment codes: high-entropy random strings, stored only as SHA-256 digests.

A slow password hash (argon2) protects low-entropy human passwords; these values carry 256 bits of
randomness, so a single SHA-256 is enough and keeps the per-check-in cost to a microsecond.
"""

from __future__ import annotations

import hashlib
import secrets


def new_secret() -> str:
    """43 URL-safe characters, 256 bits of entropy."""
    return secrets.token_urlsafe(32)


def digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()
