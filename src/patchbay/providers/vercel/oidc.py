"""Verifying the OIDC JWTs Vercel's marketplace sends: RS256 against the keys published at
PATCHBAY_VERCEL_JWKS_URL (cached, fetched again when a token names a key id we have not seen),
issuer https://marketplace.vercel.com, audience = the integration's client id, expiry."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any, Literal

import httpx
import jwt
from jwt.algorithms import RSAAlgorithm

from patchbay.kit.cache import Cache
from patchbay.kit.errors import AuthenticationFailed, ProviderUnavailable, ProviderUnreachable
from patchbay.kit.http import outbound_client

log = logging.getLogger(__name__)

VERCEL_ISSUER = "https://marketplace.vercel.com"
JWKS_TTL_SECONDS = 3600
# An unknown key id makes us fetch the keys again, but at most this often per process, so a flood
# of made-up key ids cannot turn into a flood of requests to Vercel.
REFETCH_MIN_INTERVAL = 2.0
LEEWAY_SECONDS = 10
JSON_ONLY = {"Accept": "application/json"}

AuthType = Literal["user", "system"]
AUTH_TYPES: tuple[AuthType, ...] = ("user", "system")
USER_SUB = re.compile(r"^account:[0-9A-Za-z]+:user:[0-9A-Za-z]+$")
SYSTEM_SUB = re.compile(r"^account:[0-9A-Za-z]+$")


@dataclass(frozen=True)
class VercelClaims:
    auth_type: AuthType
    sub: str
    account_id: str
    installation_id: str
    user_id: str | None = None
    user_role: str | None = None
    user_email: str | None = None
    user_name: str | None = None


class InvalidVercelToken(Exception):
    """Why a token was refused; logged, never returned (the caller sees a generic message)."""


class JWKSCache:
    """Vercel's public keys, in the runtime cache, keyed by URL."""

    def __init__(self, cache: Cache, url: str, *, timeout: float = 10.0) -> None:  # pragma: no mutate
        self.cache = cache
        self.url = url
        self.timeout = timeout

    @property
    def _key(self) -> str:
        return f"vercel:jwks:{self.url}"

    @property
    def _refetch_key(self) -> str:
        return f"vercel:jwks-refetched:{self.url}"

    async def _fetch(self) -> dict[str, Any]:
        try:
            async with outbound_client(timeout=self.timeout) as client:
                response = await client.get(self.url, headers=JSON_ONLY)
        except httpx.TransportError as exc:
            log.warning("vercel jwks unreachable: %s", type(exc).__name__)
            raise ProviderUnreachable(
                "Vercel's signing keys could not be fetched. Please try again later."
            ) from None
        if response.status_code != 200:
            log.warning("vercel jwks answered %s", response.status_code)
            raise ProviderUnavailable("Vercel's signing keys could not be fetched. Please try again later.")
        try:
            data = response.json()
        except ValueError:
            data = None  # pragma: no mutate (any non-dict is refused below)
        if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
            raise ProviderUnavailable("Vercel's signing keys could not be read. Please try again later.")
        await self.cache.set(self._key, data, JWKS_TTL_SECONDS)
        return data

    async def key_for(self, kid: str) -> dict[str, Any] | None:
        data = await self.cache.get(self._key)
        fresh = False  # pragma: no mutate (None is as false)
        if not isinstance(data, dict):
            data, fresh = await self._fetch(), True
        found = _find(data, kid)
        if found is None and not fresh and await self.cache.get(self._refetch_key) is None:
            # Any value marks it (the check is `is None`): False is as good (equivalent mutant).
            await self.cache.set(self._refetch_key, True, REFETCH_MIN_INTERVAL)  # pragma: no mutate
            found = _find(await self._fetch(), kid)
        return found


def _find(data: dict[str, Any], kid: str) -> dict[str, Any] | None:
    for key in data.get("keys") or []:
        if isinstance(key, dict) and key.get("kid") == kid:
            return key
    return None


def bearer_token(authorization: str | None) -> str | None:
    parts = (authorization or "").split()  # pragma: no mutate (any one word is refused below)
    if len(parts) == 2 and parts[0].lower() == "bearer":
        return parts[1]
    return None


class VercelTokenVerifier:
    def __init__(self, jwks: JWKSCache, client_id: str | None) -> None:
        self.jwks = jwks
        self.client_id = client_id

    async def verify(self, authorization: str | None, auth_header: str | None) -> VercelClaims:
        token = bearer_token(authorization)
        if not token:
            raise AuthenticationFailed("Missing Token for Vercel request")
        declared = (auth_header or "").strip().lower()
        if declared and declared not in AUTH_TYPES:
            raise AuthenticationFailed("Missing or invalid X-Vercel-Auth header")
        label = declared or "Vercel"
        try:
            payload = await self._decode(token)
            return _claims(payload, declared or None)
        except InvalidVercelToken as exc:
            log.warning("vercel oidc token refused: %s", exc)
            raise AuthenticationFailed(f"Invalid {label} authentication token") from None

    async def _decode(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidVercelToken("malformed token") from None
        if header.get("alg") != "RS256":
            raise InvalidVercelToken(f"algorithm {header.get('alg')!r} is not RS256")
        kid = header.get("kid")
        # With `and`, an empty or non-text kid would go on to be an unknown key id: refused too.
        if not isinstance(kid, str) or not kid:  # pragma: no mutate
            raise InvalidVercelToken("token has no key id")
        if not self.client_id:
            log.error("PATCHBAY_VERCEL_CLIENT_ID is not set: Vercel marketplace calls cannot be verified")
            raise InvalidVercelToken("no client id configured")
        jwk = await self.jwks.key_for(kid)
        if jwk is None:
            raise InvalidVercelToken(f"unknown key id {kid!r}")
        try:
            key = RSAAlgorithm.from_jwk(jwk)
            return jwt.decode(
                token,
                key,  # type: ignore[arg-type]
                algorithms=["RS256"],
                audience=self.client_id,
                issuer=VERCEL_ISSUER,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except (jwt.PyJWTError, ValueError) as exc:
            raise InvalidVercelToken(f"{type(exc).__name__}: {exc}") from None


def _text(payload: dict[str, Any], name: str) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not value:
        raise InvalidVercelToken(f"missing claim {name}")
    return value


def _optional(payload: dict[str, Any], name: str) -> str | None:
    value = payload.get(name)
    return value if isinstance(value, str) and value else None


def _claims(payload: dict[str, Any], declared: AuthType | None) -> VercelClaims:
    auth_type: AuthType = declared or ("user" if "user_id" in payload else "system")
    sub = _text(payload, "sub")
    account_id = _text(payload, "account_id")
    installation_id = _text(payload, "installation_id")
    if auth_type == "system":
        if not SYSTEM_SUB.match(sub):
            raise InvalidVercelToken("system token sub has the wrong shape")
        return VercelClaims("system", sub, account_id, installation_id)
    if not USER_SUB.match(sub):
        raise InvalidVercelToken("user token sub has the wrong shape")
    role = _text(payload, "user_role")
    if role not in ("ADMIN", "USER"):
        raise InvalidVercelToken(f"unknown user_role {role!r}")
    return VercelClaims(
        "user",
        sub,
        account_id,
        installation_id,
        user_id=_text(payload, "user_id"),
        user_role=role,
        user_email=_optional(payload, "user_email"),
        user_name=_optional(payload, "user_name"),
    )
