"""The `apns` kind against its simulator: the .p8 key must be an EC P-256 key, a provider token is
signed with it (ES256, kid, iss) and tried with a push APNs can only refuse for the device token."""

from __future__ import annotations

from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from patchbay.config import Settings
from patchbay.kit.provider_errors import UpstreamError
from patchbay.providers import registry
from patchbay.providers.apns import credentials as messages
from patchbay.providers.apns import simulator as apns
from patchbay.providers.apns.client import load_key, provider_token
from patchbay.runtime import Runtime
from patchbay.sandbox.server import SandboxServer
from tests.providers.credential_kinds import OUTAGES, assert_envelope, count, create, stored
from tests.support.factory import Tenant

TEAM, BUNDLE = "TEAM123456", "com.example.app"


def apns_config(key_id: str, pem: str, **extra: Any) -> dict[str, Any]:
    return {"signing_key": pem, "key_id": key_id, "team_id_apple": TEAM, "bundle_id": BUNDLE, **extra}


def pem_of(key: Any) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.mark.parametrize("environment", ["production", "sandbox"])
async def test_created_as_posthog_stores_it(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer, environment: str
) -> None:
    key_id, pem = apns.add_key(sandbox.state, TEAM, (BUNDLE,))
    response = await create(client, tenant, "apns", apns_config(key_id, pem, environment=environment))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["config"] == {"team_id": TEAM, "bundle_id": BUNDLE, "key_id": key_id, "environment": environment}
    assert body["display_name"] == BUNDLE
    assert "PRIVATE KEY" not in response.text
    row, secrets = await stored(runtime, body["id"])
    assert row.integration_id == f"{TEAM}.{BUNDLE}" and secrets == {"signing_key": pem.strip()}
    assert sandbox.state.count_calls("apns", f"/apns/{environment}/3/device/") == 1
    # A new key for the same app replaces the row's key.
    new_id, new_pem = apns.add_key(sandbox.state, TEAM, (BUNDLE,))
    again = await create(client, tenant, "apns", apns_config(new_id, new_pem, environment=environment))
    assert again.status_code == 201 and again.json()["id"] == body["id"]
    assert again.json()["config"]["key_id"] == new_id


def test_the_provider_token_is_an_es256_jwt_apple_can_verify() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    token = provider_token(load_key(pem_of(key)), "KEY1234567", TEAM, now=1_700_000_000)
    assert jwt.get_unverified_header(token) == {"alg": "ES256", "kid": "KEY1234567", "typ": "JWT"}
    claims = jwt.decode(token, key.public_key(), algorithms=["ES256"], options={"verify_iat": False})
    assert claims == {"iss": TEAM, "iat": 1_700_000_000}


@pytest.mark.parametrize(
    ("change", "detail", "attr"),
    [
        ({"signing_key": ""}, messages.REQUIRED, None),
        ({"key_id": None}, messages.REQUIRED, None),
        ({"team_id_apple": "   "}, messages.REQUIRED, None),
        ({"bundle_id": ["com.example.app"]}, messages.NOT_STRINGS, None),
        ({"environment": "staging"}, messages.ENVIRONMENT, None),
        ({"signing_key": "-----BEGIN PRIVATE KEY-----\nfake-key\n-----END PRIVATE KEY-----"}, messages.BAD_KEY, "signing_key"),
        ({"signing_key": pem_of(ec.generate_private_key(ec.SECP384R1()))}, messages.BAD_KEY, "signing_key"),
        ({"signing_key": pem_of(rsa.generate_private_key(public_exponent=65537, key_size=2048))}, messages.BAD_KEY, "signing_key"),
    ],
)  # fmt: skip
async def test_validation_messages(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxServer, change: dict[str, Any], detail: str, attr: str | None
) -> None:
    key_id, pem = apns.add_key(sandbox.state, TEAM, (BUNDLE,))
    response = await create(client, tenant, "apns", {**apns_config(key_id, pem), **change})
    assert_envelope(response, 400, detail, attr)
    assert "PRIVATE KEY" not in response.text
    assert sandbox.state.count_calls("apns") == 0


async def test_bad_credentials(client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxServer) -> None:
    key_id, pem = apns.add_key(sandbox.state, TEAM, (BUNDLE,), environments=("production",))
    other_team = await create(client, tenant, "apns", {**apns_config(key_id, pem), "team_id_apple": "OTHER12345"})
    assert_envelope(other_team, 400, messages.REFUSALS["InvalidProviderToken"][0], "signing_key")
    unknown = pem_of(ec.generate_private_key(ec.SECP256R1()))  # a valid key Apple never issued
    assert_envelope(await create(client, tenant, "apns", apns_config(key_id, unknown)), 400, attr="signing_key")
    topic = await create(client, tenant, "apns", {**apns_config(key_id, pem), "bundle_id": "com.example.other"})
    assert_envelope(topic, 400, messages.REFUSALS["TopicDisallowed"][0], "bundle_id")
    environment = await create(client, tenant, "apns", apns_config(key_id, pem, environment="sandbox"))
    assert_envelope(environment, 400, messages.REFUSALS["BadEnvironmentKeyInToken"][0], "environment")
    assert await count(client, tenant) == 0


@pytest.mark.parametrize(("fault", "status", "code"), OUTAGES)
async def test_provider_down(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxServer, fault: str, status: int, code: str
) -> None:
    key_id, pem = apns.add_key(sandbox.state, TEAM, (BUNDLE,))
    sandbox.state.inject("apns", fault)
    response = await create(client, tenant, "apns", apns_config(key_id, pem))
    assert_envelope(response, status)
    assert response.json()["code"] == code and "PRIVATE KEY" not in response.text
    assert await count(client, tenant) == 0


async def test_health_check(settings: Settings, sandbox: SandboxServer) -> None:
    key_id, pem = apns.add_key(sandbox.state, TEAM, (BUNDLE,))
    health = registry.for_kind("apns").health  # type: ignore[union-attr]
    assert health is not None
    config = {"team_id": TEAM, "bundle_id": BUNDLE, "key_id": key_id, "environment": "production"}
    await health.check(settings, config, {"signing_key": pem})
    with pytest.raises(UpstreamError) as refused:
        await health.check(settings, {**config, "bundle_id": "com.example.gone"}, {"signing_key": pem})
    assert refused.value.provider_code == "TopicDisallowed"
