"""Personal API key values: generation, the stored hash, the mask."""

from __future__ import annotations

import hashlib
import secrets

BASE57 = "23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
KEY_PREFIX = "phx_"


def base57(data: bytes) -> str:
    number = int.from_bytes(data, "big")  # pragma: no mutate (Python's default byte order is "big")
    chars = []
    while number:
        number, rem = divmod(number, 57)
        chars.append(BASE57[rem])
    return "".join(reversed(chars)) or BASE57[0]


def random_token(nbytes: int = 32) -> str:
    raw = bytearray(secrets.token_bytes(nbytes))
    raw[0] |= 0x80  # top bit set: the length varies less (32 bytes: always 44 digits)
    return base57(bytes(raw))


def generate_key_value() -> str:
    return KEY_PREFIX + random_token(35)


def hash_key_value(value: str) -> str:
    return "sha256$" + hashlib.sha256(value.encode()).hexdigest()


def mask_key_value(value: str) -> str:
    if len(value) < 16:  # pragma: no mutate (a display mask: where it starts showing ends is not access)
        return "********"  # pragma: no mutate (what a short value's mask looks like: display)
    return f"{value[:4]}...{value[-4:]}"


def project_api_token() -> str:
    return "phc_" + random_token(32)  # pragma: no mutate (a project's public token: its prefix is display)
