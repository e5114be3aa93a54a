"""A Fernet key ring: the first key encrypts, every key decrypts."""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path
from typing import Any

import orjson
from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class UndecryptableSecret(Exception):
    """Stored ciphertext that no key of the ring opens. The message never holds the value."""

    def __init__(self) -> None:
        super().__init__(
            "We couldn't read the saved credentials for this connection. "
            "Reconnect the account to start syncing again."
        )


class KeyRing:
    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("the key ring needs at least one key")
        try:
            self._fernets = [Fernet(k.strip().encode()) for k in keys]
        except (ValueError, TypeError):
            raise ValueError("PATCHBAY_ENCRYPTION_KEYS holds a value that is not a Fernet key") from None
        self._ring = MultiFernet(self._fernets)
        self._first_key = keys[0].strip().encode()

    def derive(self, purpose: str) -> bytes:
        """A key for signing (not encrypting) one kind of thing, derived from the first key."""
        return hmac.new(self._first_key, purpose.encode(), hashlib.sha256).digest()

    @classmethod
    def from_string(cls, value: str) -> KeyRing:
        return cls([k for k in value.split(",") if k.strip()])

    @staticmethod
    def generate_key() -> str:
        return Fernet.generate_key().decode()

    def encrypt(self, plaintext: bytes) -> str:
        return self._ring.encrypt(plaintext).decode()

    def decrypt(self, token: str) -> bytes:
        try:
            return self._ring.decrypt(token.encode())
        except InvalidToken:
            raise UndecryptableSecret() from None

    def encrypt_json(self, value: dict[str, Any]) -> str:
        return self.encrypt(orjson.dumps(value))

    def decrypt_json(self, token: str | None) -> dict[str, Any]:
        if not token:
            return {}
        data = orjson.loads(self.decrypt(token))
        # Nothing encrypts a value that is not an object (equivalent mutants).
        return data if isinstance(data, dict) else {}  # pragma: no mutate

    def is_current(self, token: str) -> bool:
        """True when the first key already opens the token (nothing to rotate)."""
        try:
            self._fernets[0].decrypt(token.encode())
            return True
        except InvalidToken:
            return False

    def rotate(self, token: str) -> str:
        try:
            return self._ring.rotate(token.encode()).decode()
        except InvalidToken:
            raise UndecryptableSecret() from None


def key_file_for_sqlite(database_url: str) -> Path:
    """`patchbay.keys` beside the SQLite database file."""
    if "///" not in database_url:  # no file named: the working directory
        return Path.cwd() / "patchbay.keys"
    path = database_url.split("///", 1)[1]
    if path in ("", ":memory:"):
        return Path("patchbay.keys")
    return Path(path).resolve().parent / "patchbay.keys"


def load_or_create_key_file(path: Path) -> str:
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = KeyRing.generate_key()
    # Created with owner-only permissions from the first byte: no window where others can read it.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key
