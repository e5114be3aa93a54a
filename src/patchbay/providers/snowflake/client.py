"""Proving Snowflake credentials over its REST endpoints with httpx (no connector): a password with the
login request the drivers send (`POST /session/v1/login-request`), a key pair with a `SELECT 1` through
the SQL API (`POST /api/v2/statements`) authenticated by a key-pair JWT.

The account's API base is PATCHBAY_SNOWFLAKE_API_URL, `https://{account}.snowflakecomputing.com` by
default. A base naming `{account}` puts user input in the host, so it goes through the address guard
(pinned); a base without it is the operator's (the sandbox) and uses the ordinary outbound client."""

from __future__ import annotations

import base64
import hashlib
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from patchbay.config import Settings
from patchbay.kit.dns import HostNotAllowed
from patchbay.kit.errors import ProviderRateLimited, ProviderUnavailable, ProviderUnreachable, ValidationError
from patchbay.kit.http import guarded_client, outbound_client

DEFAULT_API_URL = "https://{account}.snowflakecomputing.com"


def api_base(settings: Settings, account: str) -> tuple[str, bool]:
    """The account's base URL, and whether its host came from the user (then it is guarded)."""
    template = settings.kind_setting("snowflake", "API_URL") or DEFAULT_API_URL
    return template.replace("{account}", account.lower()).rstrip("/"), "{account}" in template


def account_name(account: str) -> str:
    """The account as Snowflake's login and key-pair JWT name it: upper case, without the region of
    an account locator (`xy12345.us-east-1` -> `XY12345`)."""
    return account.partition(".")[0].upper()


def keypair_jwt(account: str, user: str, private_key_pem: str, passphrase: str | None) -> str:
    try:
        key = serialization.load_pem_private_key(
            private_key_pem.encode(), password=passphrase.encode() if passphrase else None
        )
    except (ValueError, TypeError):
        raise ValidationError("The private key could not be read (a PEM key, with its passphrase if it has one)") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValidationError("The private key must be an RSA key")
    der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    fingerprint = "SHA256:" + base64.b64encode(hashlib.sha256(der).digest()).decode()
    qualified = f"{account_name(account)}.{user.upper()}"
    now = int(time.time())
    claims = {"iss": f"{qualified}.{fingerprint}", "sub": qualified, "iat": now, "exp": now + 60}
    return jwt.encode(claims, key, algorithm="RS256")


async def _post(settings: Settings, account: str, path: str, **kwargs: Any) -> httpx.Response:
    base, guarded = api_base(settings, account)
    host = urlsplit(base).hostname or ""
    try:
        client = (
            await guarded_client(settings, host, timeout=settings.http_timeout)
            if guarded
            else outbound_client(timeout=settings.http_timeout)
        )
        async with client as http:
            return await http.post(base + path, **kwargs)
    except HostNotAllowed:
        raise ValidationError(f"Snowflake integration is not valid: the account host '{host}' is not allowed") from None
    except httpx.TransportError:
        raise ProviderUnreachable("Snowflake could not be reached while we checked the credentials. Please try again.") from None


def _failed_upstream(response: httpx.Response) -> None:
    if response.status_code == 429:
        raise ProviderRateLimited("Snowflake", None)
    if response.status_code >= 500:
        raise ProviderUnavailable("Snowflake answered with an error while we checked the credentials. Please try again later.")


def _message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    return str(body.get("message") or body.get("code") or response.status_code) if isinstance(body, dict) else ""


async def check_password(settings: Settings, account: str, user: str, password: str) -> None:
    body = {"data": {"ACCOUNT_NAME": account_name(account), "LOGIN_NAME": user, "PASSWORD": password, "CLIENT_APP_ID": "Patchbay"}}
    response = await _post(settings, account, "/session/v1/login-request", json=body)
    _failed_upstream(response)
    try:
        answer = response.json()
    except ValueError:
        answer = None
    if response.status_code == 200 and isinstance(answer, dict) and answer.get("success") is True:
        return
    if response.status_code in (200, 400, 401, 403, 404):
        raise ValidationError(f"Snowflake refused the credentials: {_message(response)}")
    raise ProviderUnavailable("Snowflake sent an answer we could not read. Please try again later.")


async def check_keypair(settings: Settings, account: str, user: str, token: str) -> None:
    headers = {"Authorization": f"Bearer {token}", "X-Snowflake-Authorization-Token-Type": "KEYPAIR_JWT"}
    response = await _post(settings, account, "/api/v2/statements", json={"statement": "SELECT 1", "timeout": 10}, headers=headers)
    _failed_upstream(response)
    if response.status_code in (200, 202):
        return
    raise ValidationError(f"Snowflake refused the credentials: {_message(response)}")
