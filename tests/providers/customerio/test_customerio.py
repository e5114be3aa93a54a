"""The three Customer.io kinds against the simulator: keys checked in their region, stored as
PostHog stores them (secrets only in sensitive_config, no integration id: "ID: None")."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from patchbay.config import Settings
from patchbay.kit.provider_errors import UpstreamError
from patchbay.providers import registry
from patchbay.providers.customerio import credentials as messages
from patchbay.providers.customerio import simulator as cio
from patchbay.runtime import Runtime
from patchbay.sandbox.server import SandboxServer
from tests.providers.credential_kinds import OUTAGES, assert_envelope, count, create, stored
from tests.support.factory import Tenant

APP_KEY = "SENTINEL-cio-app-key-55e2"
TRACK_KEY = "SENTINEL-cio-track-key-91ab"
WEBHOOK_SECRET = "SENTINEL-cio-webhook-secret-0d4c"


@pytest.mark.parametrize("region", ["us", "eu"])
async def test_app_key_created_in_its_region(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer, region: str
) -> None:
    cio.add_app_key(sandbox.state, region, APP_KEY)
    response = await create(client, tenant, "customerio-app", {"app_api_key": APP_KEY, "region": region.upper()})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["config"] == {"region": region} and body["display_name"] == "ID: None"
    assert APP_KEY not in response.text
    row, secrets = await stored(runtime, body["id"])
    assert row.integration_id is None and secrets == {"app_api_key": APP_KEY}
    assert sandbox.state.count_calls("customerio", f"/app/{region}/v1/workspaces") == 1


async def test_track_credentials_created_in_their_region(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    site_id, _ = cio.add_site(sandbox.state, "eu", TRACK_KEY)
    config = {"site_id": site_id, "api_key": TRACK_KEY, "region": "eu"}
    response = await create(client, tenant, "customerio-track", config)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["config"] == {"region": "eu"} and body["display_name"] == "ID: None"
    assert TRACK_KEY not in response.text and site_id not in response.text
    _, secrets = await stored(runtime, body["id"])
    assert secrets == {"site_id": site_id, "api_key": TRACK_KEY}
    # The same pair asked in the US region is refused: keys live in one data center.
    wrong_region = await create(client, tenant, "customerio-track", {**config, "region": "us"})
    assert_envelope(wrong_region, 400, messages.TRACK_REFUSED, "api_key")


async def test_webhook_secret_is_stored_without_a_call(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    response = await create(client, tenant, "customerio-webhook", {"webhook_signing_secret": WEBHOOK_SECRET})
    assert response.status_code == 201, response.text
    assert response.json()["config"] == {} and WEBHOOK_SECRET not in response.text
    _, secrets = await stored(runtime, response.json()["id"])
    assert secrets == {"webhook_signing_secret": WEBHOOK_SECRET}
    assert sandbox.state.count_calls("customerio") == 0


@pytest.mark.parametrize(
    ("kind", "config", "detail", "attr"),
    [
        ("customerio-app", {}, messages.APP_KEY_MISSING, None),
        ("customerio-app", {"app_api_key": 5}, messages.APP_KEY_MISSING, None),
        ("customerio-app", {"app_api_key": "a b"}, "app_api_key must not contain whitespace or control characters", "app_api_key"),
        ("customerio-app", {"app_api_key": APP_KEY, "region": "ap"}, messages.REGION_INVALID, "region"),
        ("customerio-track", {"site_id": "s"}, messages.TRACK_MISSING, None),
        ("customerio-track", {"api_key": TRACK_KEY}, messages.TRACK_MISSING, None),
        ("customerio-track", {"site_id": "s", "api_key": TRACK_KEY, "region": 1}, messages.REGION_INVALID, "region"),
        ("customerio-webhook", {}, messages.WEBHOOK_MISSING, None),
        ("customerio-webhook", {"webhook_signing_secret": "  "}, messages.WEBHOOK_MISSING, None),
    ],
)  # fmt: skip
async def test_validation_messages(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxServer, kind: str, config: dict[str, Any], detail: str, attr: str | None
) -> None:
    response = await create(client, tenant, kind, config)
    assert_envelope(response, 400, detail, attr)
    assert sandbox.state.count_calls("customerio") == 0


async def test_bad_credentials(client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxServer) -> None:
    cio.add_app_key(sandbox.state, "eu", APP_KEY)
    wrong_region = await create(client, tenant, "customerio-app", {"app_api_key": APP_KEY})
    assert_envelope(wrong_region, 400, messages.APP_KEY_REFUSED, "app_api_key")
    site_id, _ = cio.add_site(sandbox.state, "us", TRACK_KEY)
    wrong_key = await create(client, tenant, "customerio-track", {"site_id": site_id, "api_key": "nope"})
    assert_envelope(wrong_key, 400, messages.TRACK_REFUSED, "api_key")
    assert await count(client, tenant) == 0


@pytest.mark.parametrize("kind", ["customerio-app", "customerio-track"])
@pytest.mark.parametrize(("fault", "status", "code"), OUTAGES)
async def test_provider_down(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxServer, kind: str, fault: str, status: int, code: str
) -> None:
    cio.add_app_key(sandbox.state, "us", APP_KEY)
    site_id, _ = cio.add_site(sandbox.state, "us", TRACK_KEY)
    config = {"app_api_key": APP_KEY} if kind == "customerio-app" else {"site_id": site_id, "api_key": TRACK_KEY}
    sandbox.state.inject("customerio", fault)
    response = await create(client, tenant, kind, config)
    assert_envelope(response, status)
    assert response.json()["code"] == code
    assert APP_KEY not in response.text and TRACK_KEY not in response.text
    assert await count(client, tenant) == 0


async def test_health_checks(settings: Settings, sandbox: SandboxServer) -> None:
    cio.add_app_key(sandbox.state, "eu", APP_KEY)
    site_id, _ = cio.add_site(sandbox.state, "us", TRACK_KEY)
    app = registry.for_kind("customerio-app")
    track = registry.for_kind("customerio-track")
    assert app is not None and app.health is not None and track is not None and track.health is not None
    await app.health.check(settings, {"region": "eu"}, {"app_api_key": APP_KEY})
    await track.health.check(settings, {"region": "us"}, {"site_id": site_id, "api_key": TRACK_KEY})
    with pytest.raises(UpstreamError):
        await app.health.check(settings, {"region": "us"}, {"app_api_key": APP_KEY})
    assert registry.for_kind("customerio-webhook").health is None  # type: ignore[union-attr]
