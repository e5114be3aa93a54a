"""Push identity verification of the push kinds (`apns`, `firebase`): whether pushes must carry a
signed identity, and the public keys that verify it. Both live in the integration's `config` (public
keys are not secrets, and the API returns them); changing either is for project admins, which the
integration domain checks before any kind is built (PostHog's order)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from patchbay.kit.errors import ValidationError

VERIFICATION = "push_identity_verification"
PUBLIC_KEYS = "push_identity_public_keys"
ADMIN_FIELDS = (VERIFICATION, PUBLIC_KEYS)
ADMIN_ONLY = "Changing push identity verification requires project admin access."
MAX_KEYS = 10
KEYS_SHAPE = f"Push identity public keys must be a list of at most {MAX_KEYS} PEM public keys."
KEYS_NEEDED = "Push identity verification needs at least one public key."


def touches_push_identity(config: Mapping[str, Any]) -> bool:
    """Whether a create sets either field (any value, even false: it is still a change of policy)."""
    return any(name in config for name in ADMIN_FIELDS)


def _public_key(text: str, index: int) -> str:
    """One key, normalised to its PEM form; a private key is refused (it would be shown back)."""
    try:
        key = serialization.load_pem_public_key(text.strip().encode())
    except (ValueError, TypeError):
        raise ValidationError(
            f"Push identity public key {index + 1} is not a PEM public key.", attr=PUBLIC_KEYS
        ) from None
    if not isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey | ed25519.Ed25519PublicKey):
        raise ValidationError(
            f"Push identity public key {index + 1} must be an EC, RSA or Ed25519 key.", attr=PUBLIC_KEYS
        )
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def read_push_identity(config: Mapping[str, Any]) -> dict[str, Any]:
    """The push identity fields of a config, checked for shape, as they are stored."""
    stored: dict[str, Any] = {}
    if VERIFICATION in config:
        verification = config[VERIFICATION]
        if not isinstance(verification, bool):
            raise ValidationError("Must be a valid boolean.", attr=VERIFICATION)
        stored[VERIFICATION] = verification
    if PUBLIC_KEYS in config:
        keys = config[PUBLIC_KEYS]
        if not isinstance(keys, list) or len(keys) > MAX_KEYS or any(not isinstance(k, str) for k in keys):
            raise ValidationError(KEYS_SHAPE, attr=PUBLIC_KEYS)
        stored[PUBLIC_KEYS] = [_public_key(text, i) for i, text in enumerate(keys)]
    if stored.get(VERIFICATION) and not stored.get(PUBLIC_KEYS):
        raise ValidationError(KEYS_NEEDED, attr=PUBLIC_KEYS)
    return stored
