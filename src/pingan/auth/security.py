"""Password hashing (argon2) and random tokens."""

from __future__ import annotations

import functools
import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def _dummy_hash() -> str:
    """A hash of a random password, made once per process with the same parameters as real ones."""
    return _hasher.hash(secrets.token_urlsafe(24))


def verify_dummy(password: str) -> bool:
    """Spend what verifying a real user's password costs, for a username that does not exist, so
    that the time of an answer tells nothing about whether the account exists. Always False."""
    verify_password(_dummy_hash(), password)
    return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
