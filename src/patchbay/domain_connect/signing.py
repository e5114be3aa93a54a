"""The RSA key that signs apply URLs (RS256 over the exact encoded query) and the TXT records that
publish its public half."""

from __future__ import annotations

import base64
from pathlib import Path
from urllib.parse import urlencode

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from patchbay.config import Settings

TXT_CHUNK = 200  # base64 characters per TXT record, well under the 255-byte string limit


class SigningKeyInvalid(ValueError):
    """The configured key is not a readable, unencrypted PEM RSA private key."""


def load_private_key(settings: Settings) -> rsa.RSAPrivateKey | None:
    pem = settings.domain_connect_private_key
    if not pem and settings.domain_connect_private_key_file:
        try:
            pem = Path(settings.domain_connect_private_key_file).read_text()
        except OSError as exc:
            raise SigningKeyInvalid("the Domain Connect private key file cannot be read") from exc
    if not pem:
        return None
    try:
        key = serialization.load_pem_private_key(pem.replace("\\n", "\n").encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise SigningKeyInvalid("the Domain Connect private key is not a PEM private key") from exc
    if not isinstance(key, rsa.RSAPrivateKey):
        raise SigningKeyInvalid("the Domain Connect private key is not an RSA key")
    return key


def sign(query: str, key: rsa.RSAPrivateKey) -> str:
    """RSASSA-PKCS1-v1_5 with SHA-256 over the UTF-8 query, standard base64 with padding."""
    signature = key.sign(query.encode(), padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode()


def signed_query(params: list[tuple[str, str]], key: rsa.RSAPrivateKey | None, key_id: str) -> str:
    """Parameters in the order given, `sig` then `key` appended last when a key is present."""
    query = urlencode(params)
    if key is None or not key_id:
        return query
    return query + "&" + urlencode({"sig": sign(query, key), "key": key_id})


def public_key_der_b64(key: rsa.RSAPrivateKey) -> str:
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


def public_key_txt_records(key: rsa.RSAPrivateKey) -> list[str]:
    """`p=<index>,a=RS256,d=<chunk>` values; a verifier joins the `d` parts in `p` order."""
    encoded = public_key_der_b64(key)
    chunks = [encoded[i : i + TXT_CHUNK] for i in range(0, len(encoded), TXT_CHUNK)]
    return [f"p={index},a=RS256,d={chunk}" for index, chunk in enumerate(chunks, start=1)]


def public_key_host(settings: Settings) -> str:
    """Where the TXT records live: `{key id}.{syncPubKeyDomain}`."""
    from patchbay.domain_connect.template_store import pubkey_domain

    return f"{settings.domain_connect_key_id}.{pubkey_domain(settings)}"
