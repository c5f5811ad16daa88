"""Password hashing (argon2id with argon2-cffi's current defaults) and generation."""

from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
_hasher = PasswordHasher()  # argon2id, RFC 9106 low-memory profile


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def generate_password() -> str:
    """A random password of 20 URL-safe characters (about 120 bits)."""
    return secrets.token_urlsafe(15)


def password_problem(password: str) -> str | None:
    """Why a chosen password is refused, in French, or None when it is acceptable."""
    if len(password) < MIN_LENGTH:
        return f"le mot de passe doit faire au moins {MIN_LENGTH} caractères"
    if len(set(password)) < 5:
        return "le mot de passe est trop répétitif"
    return None
