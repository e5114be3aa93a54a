"""The Vercel marketplace's OIDC tokens, piece by piece: the claims read from a verified payload, and
the key cache against a JWKS server on loopback that answers what each test sets (slow, broken,
counted). The whole verification, signatures included, is in tests/vercel."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from patchbay.kit.cache import MemoryCache
from patchbay.kit.errors import AuthenticationFailed, ProviderUnavailable, ProviderUnreachable
from patchbay.providers.vercel.oidc import (
    VERCEL_ISSUER,
    InvalidVercelToken,
    JWKSCache,
    VercelClaims,
    VercelTokenVerifier,
    _claims,
)
from tests.support.live_server import ThreadedServer

USER = {
    "sub": "account:acc1:user:usr1",
    "account_id": "acc1",
    "installation_id": "icfg_1",
    "user_id": "usr1",
    "user_role": "ADMIN",
    "user_email": "ada@example.com",
    "user_name": "Ada",
}
SYSTEM = {"sub": "account:acc1", "account_id": "acc1", "installation_id": "icfg_1"}
KEY = {"kty": "RSA", "kid": "k1", "n": "AQAB", "e": "AQAB"}


def test_a_user_token_gives_every_claim() -> None:
    assert _claims(USER, None) == VercelClaims(
        "user", "account:acc1:user:usr1", "acc1", "icfg_1",
        user_id="usr1", user_role="ADMIN", user_email="ada@example.com", user_name="Ada",
    )  # fmt: skip


def test_a_system_token_gives_its_account() -> None:
    assert _claims(SYSTEM, None) == VercelClaims("system", "account:acc1", "acc1", "icfg_1")
    assert _claims(SYSTEM, "system") == VercelClaims("system", "account:acc1", "acc1", "icfg_1")


@pytest.mark.parametrize("blank", ["", None, 7])
def test_optional_claims_that_are_not_text_are_left_out(blank: Any) -> None:
    claims = _claims({**USER, "user_email": blank, "user_name": blank}, "user")
    assert claims.user_email is None and claims.user_name is None


@pytest.mark.parametrize("name", ["sub", "account_id", "installation_id", "user_id", "user_role"])
@pytest.mark.parametrize("value", ["", None, 42])
def test_a_required_claim_must_be_text(name: str, value: Any) -> None:
    with pytest.raises(InvalidVercelToken):
        _claims({**USER, name: value}, "user")


class JWKSServer:
    """Answers GET /jwks with `body` and `status` after `delay` seconds; keeps what it received."""

    def __init__(self) -> None:
        self.body: Any = {"keys": [KEY]}
        self.status = 200
        self.delay = 0.0
        self.accepts: list[str | None] = []
        self.server = ThreadedServer(Starlette(routes=[Route("/jwks", self.jwks)]), lifespan="off")

    async def jwks(self, request: Request) -> Response:
        self.accepts.append(request.headers.get("accept"))
        await asyncio.sleep(self.delay)
        return JSONResponse(self.body, status_code=self.status)

    @property
    def url(self) -> str:
        return self.server.origin + "/jwks"


@pytest.fixture(scope="module")
def jwks_server() -> Iterator[JWKSServer]:
    server = JWKSServer()
    server.server.start()
    yield server
    server.server.stop()


@pytest.fixture
def jwks(jwks_server: JWKSServer) -> JWKSServer:
    jwks_server.body, jwks_server.status, jwks_server.delay = {"keys": [KEY]}, 200, 0.0
    jwks_server.accepts.clear()
    return jwks_server


async def test_keys_are_asked_for_as_json_and_cached(jwks: JWKSServer) -> None:
    cache = JWKSCache(MemoryCache(), jwks.url)
    assert await cache.key_for("k1") == KEY
    assert await cache.key_for("k1") == KEY
    assert jwks.accepts == ["application/json"]


async def test_an_unknown_key_id_right_after_a_fetch_is_not_fetched_again(jwks: JWKSServer) -> None:
    cache = JWKSCache(MemoryCache(), jwks.url)
    assert await cache.key_for("unknown") is None
    assert len(jwks.accepts) == 1
    # From the cache, an unknown id fetches once more (then not again for a while).
    assert await cache.key_for("other") is None
    assert await cache.key_for("third") is None
    assert len(jwks.accepts) == 2


async def test_the_fetch_keeps_to_its_timeout(jwks: JWKSServer) -> None:
    jwks.delay = 2.0
    started = time.monotonic()
    with pytest.raises(ProviderUnreachable):
        await JWKSCache(MemoryCache(), jwks.url, timeout=0.2).key_for("k1")
    assert time.monotonic() - started < 1.5


@pytest.mark.parametrize("body", [[KEY], {"keys": "k1"}, {"keys": None}, "keys", None])
async def test_a_jwks_that_is_not_a_key_list_is_unavailable(jwks: JWKSServer, body: Any) -> None:
    jwks.body = body
    with pytest.raises(ProviderUnavailable, match="could not be read"):
        await JWKSCache(MemoryCache(), jwks.url).key_for("k1")


async def test_a_jwks_error_status_is_unavailable(jwks: JWKSServer) -> None:
    jwks.status = 500
    with pytest.raises(ProviderUnavailable, match="could not be fetched"):
        await JWKSCache(MemoryCache(), jwks.url).key_for("k1")


SIGNER = rsa.generate_private_key(public_exponent=65537, key_size=2048)
SIGNING_JWK = {**json.loads(RSAAlgorithm.to_jwk(SIGNER.public_key())), "kid": "signing"}
CLIENT_ID = "oac_test_client"


def signed(**claims: Any) -> str:
    now = int(time.time())
    body = {"iss": VERCEL_ISSUER, "aud": CLIENT_ID, "exp": now + 300, **SYSTEM}
    body.update(claims)
    body = {name: value for name, value in body.items() if value is not None}
    return "Bearer " + jwt.encode(body, SIGNER, algorithm="RS256", headers={"kid": "signing"})


@pytest.fixture
def verifier(jwks: JWKSServer) -> VercelTokenVerifier:
    jwks.body = {"keys": [SIGNING_JWK]}
    return VercelTokenVerifier(JWKSCache(MemoryCache(), jwks.url), CLIENT_ID)


async def test_a_signed_system_token_is_accepted(verifier: VercelTokenVerifier) -> None:
    assert await verifier.verify(signed(), "system") == VercelClaims("system", "account:acc1", "acc1", "icfg_1")


@pytest.mark.parametrize("missing", ["exp", "iss", "aud"])
async def test_a_token_without_a_required_claim_is_refused(verifier: VercelTokenVerifier, missing: str) -> None:
    with pytest.raises(AuthenticationFailed):
        await verifier.verify(signed(**{missing: None}), "system")


async def test_the_expiry_allows_ten_seconds_of_clock_skew(verifier: VercelTokenVerifier) -> None:
    now = int(time.time())
    assert (await verifier.verify(signed(exp=now - 5), "system")).account_id == "acc1"
    with pytest.raises(AuthenticationFailed):
        await verifier.verify(signed(exp=now - 30), "system")


async def test_the_declared_auth_type_decides_how_the_token_is_read(verifier: VercelTokenVerifier) -> None:
    """`X-Vercel-Auth` is not a hint: a user's token declared `system` is read as a system token and
    refused (its sub has a user's shape), and the other way round. Only without the header is the
    type taken from the token."""
    with pytest.raises(AuthenticationFailed, match="^Invalid system authentication token$"):
        await verifier.verify(signed(**USER), "system")
    with pytest.raises(AuthenticationFailed, match="^Invalid user authentication token$"):
        await verifier.verify(signed(), "user")
    assert (await verifier.verify(signed(**USER), None)).auth_type == "user"
    assert (await verifier.verify(signed(), "")).auth_type == "system"


async def test_a_refused_token_without_the_header_is_called_vercel(verifier: VercelTokenVerifier) -> None:
    with pytest.raises(AuthenticationFailed, match="^Invalid Vercel authentication token$"):
        await verifier.verify(signed(exp=int(time.time()) - 60), None)
