"""Console passwords: argon2id hashes (argon2-cffi's defaults, RFC 9106's second recommendation)."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 12
MAX_LENGTH = 1024

_hasher = PasswordHasher()  # argon2id


@cache
def _dummy() -> str:
    """Verified when the account is unknown or has no password, so both answers take as long. Made
    at first use: hashing takes ~0.1 s and 64 MB, which every worker paid at start."""
    return _hasher.hash("patchbay-console-no-such-account")


class PasswordRefused(ValueError):
    """A password that may not be set; the message says why."""


def check_new(password: str) -> str:
    if len(password) < MIN_LENGTH:
        raise PasswordRefused(f"the password must be at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise PasswordRefused(f"the password must be at most {MAX_LENGTH} characters")
    return password


def hash_password(password: str) -> str:
    return _hasher.hash(check_new(password))


def verify(stored: str | None, password: str) -> bool:
    """Whether `password` matches `stored` (None: no console access; always False, same cost)."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _hasher.verify(stored or _dummy(), password) and stored is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    return _hasher.check_needs_rehash(stored)
