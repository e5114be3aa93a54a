"""The `posthog` kind against its simulator: a personal API key checked with GET /api/users/@me/
on the operator's default instance or on a host the user typed in (address guard, pinned)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from patchbay.config import Settings
from patchbay.kit.provider_errors import UpstreamError
from patchbay.providers import registry
from patchbay.providers.posthog import credentials as messages
from patchbay.providers.posthog import simulator as posthog
from patchbay.runtime import Runtime
from patchbay.sandbox.server import SandboxServer
from tests.providers.credential_kinds import OUTAGES, app_with, assert_envelope, count, create, stored
from tests.support.dns_server import DNSTestServer
from tests.support.factory import Tenant

KEY = "phx_SENTINEL_posthog_key_41f0"


@pytest.fixture(scope="module")
def zone() -> Iterator[DNSTestServer]:
    with DNSTestServer() as server:
        yield server


@pytest.fixture
def settings(make_settings: Any, zone: DNSTestServer) -> Settings:
    """The loopback DNS server; loopback stands in for the operator's own network (the sandbox)."""
    return make_settings(dns_nameservers=zone.address, user_host_allowed_networks="127.0.0.1/32")  # type: ignore[no-any-return]


async def test_created_on_the_default_instance_and_key_kept_secret(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    _, user = posthog.add_user(sandbox.state, api_key=KEY, email="ada@example.com", organization="Acme")
    response = await create(client, tenant, "posthog", {"personal_api_key": KEY})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["config"] == {
        "host": sandbox.base_url + "/posthog", "email": "ada@example.com", "organization_name": "Acme",
    }  # fmt: skip
    assert body["display_name"] == "ada@example.com"
    assert KEY not in response.text
    row, secrets = await stored(runtime, body["id"])
    assert row.integration_id == f"{sandbox.base_url}/posthog:{user['uuid']}"
    assert secrets == {"personal_api_key": KEY}
    # The same user again updates the one row.
    again = await create(client, tenant, "posthog", {"personal_api_key": KEY})
    assert again.status_code == 201 and again.json()["id"] == body["id"]
    assert await count(client, tenant) == 1


async def test_a_typed_in_host_is_guarded_and_reached(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxServer, zone: DNSTestServer
) -> None:
    posthog.add_user(sandbox.state, api_key=KEY)
    zone.replace("posthog.corp.test", "A", ["127.0.0.1"])
    host = f"http://posthog.corp.test:{sandbox.port}/posthog/"
    response = await create(client, tenant, "posthog", {"host": host, "personal_api_key": KEY})
    assert response.status_code == 201, response.text
    assert response.json()["config"]["host"] == host.rstrip("/")
    assert ("posthog.corp.test", "A") in zone.queries


@pytest.mark.parametrize(
    "address", ["10.1.2.3", "100.64.0.7", "169.254.169.254", "192.168.4.4", "::1", "fd00::9", "2002:a00:1::1"]
)
async def test_a_host_resolving_to_a_private_address_is_refused(
    client: httpx.AsyncClient, tenant: Tenant, zone: DNSTestServer, sandbox: SandboxServer, address: str
) -> None:
    posthog.add_user(sandbox.state, api_key=KEY)
    name = "posthog.internal.test"
    zone.replace(name, "A", [address] if ":" not in address else [])
    zone.replace(name, "AAAA", [address] if ":" in address else [])
    before = sandbox.state.count_calls("posthog")
    response = await create(client, tenant, "posthog", {"host": f"https://{name}", "personal_api_key": KEY})
    assert_envelope(response, 400, f"PostHog integration error: could not validate host 'https://{name}'", "host")
    assert KEY not in response.text
    assert await count(client, tenant) == 0
    assert sandbox.state.count_calls("posthog") == before


async def test_loopback_is_refused_without_the_operators_allowance(
    make_settings: Any, runtime: Runtime, sandbox: SandboxServer
) -> None:
    posthog.add_user(sandbox.state, api_key=KEY)
    async with app_with(make_settings) as (client, tenant):
        host = f"http://127.0.0.1:{sandbox.port}/posthog"
        response = await create(client, tenant, "posthog", {"host": host, "personal_api_key": KEY})
    assert_envelope(response, 400, f"PostHog integration error: could not validate host '{host}'", "host")


@pytest.mark.parametrize(
    ("config", "detail", "attr"),
    [
        ({}, messages.KEY_MISSING, "personal_api_key"),
        ({"personal_api_key": ""}, messages.KEY_MISSING, "personal_api_key"),
        ({"personal_api_key": 7}, messages.KEY_NOT_STRING, "personal_api_key"),
        ({"personal_api_key": "phx_a b"}, messages.KEY_BLANKS, "personal_api_key"),
        ({"personal_api_key": "phx_ab\n"}, messages.KEY_BLANKS, "personal_api_key"),
        ({"personal_api_key": KEY, "host": 5}, messages.HOST_NOT_STRING, "host"),
        ({"personal_api_key": KEY, "host": "ftp://posthog.example.com"}, "PostHog host must be a URL such as https://us.posthog.com", "host"),
        ({"personal_api_key": KEY, "host": "https://x.example.com/?a=1"}, "PostHog host must be a URL such as https://us.posthog.com", "host"),
        ({"personal_api_key": KEY, "host": "https://x.example.com:99999"}, "PostHog host must be a URL such as https://us.posthog.com", "host"),
        ({"personal_api_key": KEY, "host": "https://u:p@x.example.com"}, "PostHog host must not contain credentials", "host"),
        ({"personal_api_key": KEY, "host": "http://52.1.2.3"}, "PostHog host must use https", "host"),
    ],
)  # fmt: skip
async def test_validation_messages(
    client: httpx.AsyncClient, tenant: Tenant, config: dict[str, Any], detail: str, attr: str
) -> None:
    response = await create(client, tenant, "posthog", config)
    assert_envelope(response, 400, detail, attr)
    assert KEY not in response.text
    assert await count(client, tenant) == 0


async def test_bad_credentials(client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxServer) -> None:
    posthog.add_user(sandbox.state, api_key=KEY)
    wrong = await create(client, tenant, "posthog", {"personal_api_key": "phx_wrong"})
    assert_envelope(wrong, 400, messages.KEY_REFUSED, "personal_api_key")
    narrow, _ = posthog.add_user(sandbox.state, scopes=("insight:read",))
    scoped = await create(client, tenant, "posthog", {"personal_api_key": narrow})
    assert_envelope(scoped, 400, messages.KEY_SCOPE, "personal_api_key")
    assert await count(client, tenant) == 0


@pytest.mark.parametrize(("fault", "status", "code"), OUTAGES)
async def test_provider_down(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxServer, fault: str, status: int, code: str
) -> None:
    posthog.add_user(sandbox.state, api_key=KEY)
    sandbox.state.inject("posthog", fault)
    response = await create(client, tenant, "posthog", {"personal_api_key": KEY})
    assert_envelope(response, status)
    assert response.json()["code"] == code and KEY not in response.text
    if fault == "429":
        assert response.headers["Retry-After"] == "7"
    assert await count(client, tenant) == 0


async def test_health_check(settings: Settings, sandbox: SandboxServer) -> None:
    _, user = posthog.add_user(sandbox.state, api_key=KEY)
    health = registry.for_kind("posthog").health  # type: ignore[union-attr]
    assert health is not None
    config = {"host": sandbox.base_url + "/posthog", "email": user["email"]}
    await health.check(settings, config, {"personal_api_key": KEY})
    with pytest.raises(UpstreamError) as refused:
        await health.check(settings, config, {"personal_api_key": "phx_revoked"})
    assert refused.value.failure.value == "auth"
