"""RS256 over the exact encoded query, `sig` then `key` last, and the public-key TXT records."""

from __future__ import annotations

import base64
from urllib.parse import unquote_plus

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from patchbay.config import Settings
from patchbay.domain_connect.signing import (
    SigningKeyInvalid,
    load_private_key,
    public_key_host,
    public_key_txt_records,
    signed_query,
)


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_query_keeps_insertion_order_and_appends_sig_then_key(signing_key: rsa.RSAPrivateKey) -> None:
    params = [("domain", "example.com"), ("host", "news"), ("zeta", "a b"), ("groupId", "verification,dkim"),
              ("redirect_uri", "https://app.example.com/x?domain_connect=email")]  # fmt: skip
    query = signed_query(params, signing_key, "_dcpubkeyv1")
    signed, _, tail = query.partition("&sig=")
    assert signed == (
        "domain=example.com&host=news&zeta=a+b&groupId=verification%2Cdkim"
        "&redirect_uri=https%3A%2F%2Fapp.example.com%2Fx%3Fdomain_connect%3Demail"
    )
    sig, _, key = tail.partition("&key=")
    assert key == "_dcpubkeyv1"
    assert "+" not in sig and "/" not in sig  # standard base64 travels URL-encoded
    signing_key.public_key().verify(
        base64.b64decode(unquote_plus(sig)), signed.encode(), padding.PKCS1v15(), hashes.SHA256()
    )


def test_without_key_the_query_is_unsigned() -> None:
    assert signed_query([("domain", "example.com")], None, "_dcpubkeyv1") == "domain=example.com"


def test_public_key_records_reassemble_to_the_key(signing_key: rsa.RSAPrivateKey) -> None:
    records = public_key_txt_records(signing_key)
    assert len(records) == 2
    assert all(r.startswith(f"p={i},a=RS256,d=") for i, r in enumerate(records, start=1))
    assert all(len(r) < 255 for r in records)
    der = base64.b64decode("".join(r.split(",d=", 1)[1] for r in records))
    public = serialization.load_der_public_key(der)
    assert isinstance(public, rsa.RSAPublicKey)
    assert public.public_numbers() == signing_key.public_key().public_numbers()


def test_public_key_host_follows_settings() -> None:
    assert public_key_host(_settings()) == "_dcpubkeyv1.domainconnect.patchbay.dev"
    custom = _settings(domain_connect_provider_id="dns.acme.io", domain_connect_key_id="_k2")
    assert public_key_host(custom) == "_k2.domainconnect.dns.acme.io"


def test_key_from_escaped_env_value_and_from_file(signing_key_pem: str, tmp_path: object) -> None:
    from pathlib import Path

    assert "\\n" in signing_key_pem
    key = load_private_key(_settings(domain_connect_private_key=signing_key_pem))
    assert isinstance(key, rsa.RSAPrivateKey)
    path = Path(str(tmp_path)) / "dc.pem"
    path.write_text(signing_key_pem.replace("\\n", "\n"))
    from_file = load_private_key(_settings(domain_connect_private_key_file=str(path)))
    assert from_file is not None
    assert from_file.private_numbers() == key.private_numbers()
    assert load_private_key(_settings()) is None


def test_unusable_keys_are_refused(tmp_path: object) -> None:
    ec_pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(SigningKeyInvalid, match="not an RSA key"):
        load_private_key(_settings(domain_connect_private_key=ec_pem.decode()))
    with pytest.raises(SigningKeyInvalid, match="not a PEM"):
        load_private_key(_settings(domain_connect_private_key="garbage"))
    with pytest.raises(SigningKeyInvalid, match="cannot be read"):
        load_private_key(_settings(domain_connect_private_key_file=f"{tmp_path}/missing.pem"))
