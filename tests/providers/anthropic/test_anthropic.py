"""The `anthropic` kind against its simulator: PostHog's messages and ids (workspace label, the
default `workspace-<project id>`, `force`), the key checked by listing one model."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from patchbay.config import Settings
from patchbay.kit.provider_errors import UpstreamError
from patchbay.providers import registry
from patchbay.providers.anthropic import credentials as messages
from patchbay.providers.anthropic import simulator as anthropic
from patchbay.runtime import Runtime
from patchbay.sandbox.server import SandboxServer
from tests.providers.credential_kinds import OUTAGES, assert_envelope, count, create, stored
from tests.support.factory import Factory, Tenant

KEY = "sk-ant-api03-SENTINEL-anthropic-7c1d"


async def test_created_with_the_default_id_and_key_kept_secret(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    anthropic.add_key(sandbox.state, KEY)
    response = await create(client, tenant, "anthropic", {"api_key": f"  {KEY}\n"})  # pasted: trimmed
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["config"] == {}
    assert body["display_name"] == f"ID: workspace-{tenant.project.id}"
    assert KEY not in response.text
    row, secrets = await stored(runtime, body["id"])
    assert row.integration_id == f"workspace-{tenant.project.id}" and secrets == {"api_key": KEY}
    assert sandbox.state.count_calls("anthropic", "/v1/models") == 1


async def test_an_existing_id_needs_force(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    anthropic.add_key(sandbox.state, KEY)
    other = anthropic.add_key(sandbox.state)
    first = await create(client, tenant, "anthropic", {"api_key": KEY, "workspace_label": " research "})
    assert first.status_code == 201 and first.json()["config"] == {"workspace_label": "research"}
    assert first.json()["display_name"] == "ID: research"
    again = await create(client, tenant, "anthropic", {"api_key": other, "workspace_label": "research"})
    assert_envelope(again, 400, messages.EXISTS_DETAIL.replace("{integration_id}", "research"), "config")
    forced = await create(client, tenant, "anthropic", {"api_key": other, "workspace_label": "research", "force": True})
    assert forced.status_code == 201 and forced.json()["id"] == first.json()["id"]
    _, secrets = await stored(runtime, first.json()["id"])
    assert secrets == {"api_key": other}
    # The default id too, with the project's id in the message.
    assert (await create(client, tenant, "anthropic", {"api_key": KEY})).status_code == 201
    default = await create(client, tenant, "anthropic", {"api_key": KEY})
    detail = messages.EXISTS_DETAIL.replace("{integration_id}", f"workspace-{tenant.project.id}")
    assert_envelope(default, 400, detail, "config")
    assert await count(client, tenant) == 2


async def test_each_project_has_its_own_default_id(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    anthropic.add_key(sandbox.state, KEY)
    project = await factory.project(tenant.organization, name="Second")
    base = f"/api/projects/{project.id}"
    response = await client.post(
        f"{base}/integrations/", json={"kind": "anthropic", "config": {"api_key": KEY}}, headers=tenant.headers
    )
    assert response.status_code == 201, response.text
    assert response.json()["display_name"] == f"ID: workspace-{project.id}"


@pytest.mark.parametrize(
    ("config", "detail"),
    [
        ({}, messages.KEY_MISSING),
        ({"api_key": "   "}, messages.KEY_MISSING),
        ({"api_key": 42}, messages.KEY_MISSING),
        ({"api_key": "sk-ant a"}, messages.KEY_BLANKS),
        ({"api_key": "sk-ant\x07a"}, messages.KEY_BLANKS),
        ({"api_key": KEY, "workspace_label": 3}, messages.LABEL_NOT_STRING),
        ({"api_key": KEY, "workspace_label": "x" * 101}, messages.LABEL_TOO_LONG),
        ({"api_key": KEY, "workspace_label": "workspace-9"}, messages.LABEL_PREFIX),
    ],
)
async def test_validation_messages(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxServer, config: dict[str, Any], detail: str
) -> None:
    response = await create(client, tenant, "anthropic", config)
    assert_envelope(response, 400, detail, None)
    assert KEY not in response.text
    assert sandbox.state.count_calls("anthropic") == 0, "refused before any call"


async def test_bad_credentials(client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxServer) -> None:
    wrong = await create(client, tenant, "anthropic", {"api_key": KEY})
    assert_envelope(wrong, 400, messages.KEY_INVALID, "api_key")
    limited = anthropic.add_key(sandbox.state, allowed=False)
    assert_envelope(await create(client, tenant, "anthropic", {"api_key": limited}), 400, messages.KEY_PERMISSIONS, "api_key")
    assert await count(client, tenant) == 0


@pytest.mark.parametrize(("fault", "status", "code"), OUTAGES + [("503", 502, "provider_unavailable")])
async def test_provider_down(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxServer, fault: str, status: int, code: str
) -> None:
    anthropic.add_key(sandbox.state, KEY)
    sandbox.state.inject("anthropic", fault)
    response = await create(client, tenant, "anthropic", {"api_key": KEY})
    assert_envelope(response, status)
    assert response.json()["code"] == code and KEY not in response.text
    if fault == "timeout":
        assert response.json()["detail"] == messages.UNREACHABLE
    if fault in {"500", "503"}:
        status_seen = "500" if fault == "500" else "529"
        assert response.json()["detail"] == f"Anthropic returned an error validating the API key (HTTP {status_seen})."
    assert await count(client, tenant) == 0


async def test_health_check_and_proxy_headers(settings: Settings, sandbox: SandboxServer) -> None:
    anthropic.add_key(sandbox.state, KEY)
    provider = registry.for_kind("anthropic")
    assert provider is not None and provider.health is not None and provider.proxy is not None
    await provider.health.check(settings, {}, {"api_key": KEY})
    with pytest.raises(UpstreamError):
        await provider.health.check(settings, {}, {"api_key": "sk-ant-revoked"})
    request = httpx.Request("GET", provider.proxy.base_url(settings, {}) + "/v1/models")
    provider.proxy.authorize(request, {}, {"api_key": KEY})
    assert request.headers["x-api-key"] == KEY and request.headers["anthropic-version"] == "2023-06-01"
    assert request.url.host == "127.0.0.1"
