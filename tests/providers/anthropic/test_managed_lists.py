"""Anthropic's Managed Agents lists against the simulator: PostHog's shapes, the cursor passed through,
the first page cached, PostHog's words for a refused key, outages, another project, another kind."""

from __future__ import annotations

import httpx
import pytest

from patchbay.kit import retry
from patchbay.models import Integration
from patchbay.provider_resources.service import open_resources
from patchbay.providers.anthropic import resources
from patchbay.providers.anthropic import simulator as anthropic
from patchbay.runtime import Runtime
from patchbay.sandbox.server import SandboxServer
from tests.oauth.helpers import row
from tests.provider_resources.helpers import browser_context
from tests.support.factory import Factory, Tenant

KEY = "sk-ant-api03-SENTINEL-managed-lists-41a9"
LISTS = ("anthropic_managed_agents", "anthropic_managed_agent_environments", "anthropic_managed_agent_vaults")


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry, "BACKOFF_SECONDS", 0.01)


async def anthropic_row(
    factory: Factory, tenant: Tenant, sandbox: SandboxServer, key: str = KEY
) -> Integration:
    anthropic.add_key(sandbox.state, key)
    label = f"workspace-{key[-8:]}"  # one row per key: a project may hold several workspaces
    return await factory.integration(
        tenant.project, "anthropic", label, {"workspace_label": label}, {"api_key": key}
    )


async def test_the_three_lists_in_posthogs_shapes(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    agent = anthropic.add_managed(sandbox.state, "agents", "Support bot", version=3)
    unnamed = anthropic.add_managed(sandbox.state, "agents", "")
    env = anthropic.add_managed(sandbox.state, "environments", "Python sandbox")
    vault = anthropic.add_managed(sandbox.state, "vaults", "Team secrets")
    integration = await anthropic_row(factory, tenant, sandbox)
    base = f"{tenant.base}/integrations/{integration.id}"

    agents = await client.get(f"{base}/anthropic_managed_agents/", headers=tenant.headers)
    assert agents.status_code == 200, agents.text
    assert agents.json() == {
        "agents": [
            {"id": agent, "name": "Support bot", "version": 3},
            {"id": unnamed, "name": unnamed, "version": None},  # the id stands in for a missing name
        ],
        "next_cursor": None,
        "has_more": False,
    }
    envs = (await client.get(f"{base}/anthropic_managed_agent_environments/", headers=tenant.headers)).json()
    assert envs == {
        "environments": [{"id": env, "name": "Python sandbox"}],
        "next_cursor": None,
        "has_more": False,
    }
    vaults = (await client.get(f"{base}/anthropic_managed_agent_vaults/", headers=tenant.headers)).json()
    assert vaults == {
        "vaults": [{"id": vault, "display_name": "Team secrets"}],
        "next_cursor": None,
        "has_more": False,
    }
    calls = [c for c in sandbox.state.calls if c.path.startswith("/anthropic/v1/") and "models" not in c.path]
    assert len(calls) == 3
    assert all(c.headers.get("anthropic-beta") == anthropic.MANAGED_BETA for c in calls)
    assert all(c.headers.get("x-api-key") == KEY for c in calls)
    assert KEY not in agents.text + str(envs) + str(vaults)


async def test_cursor_pages_pass_through_and_only_the_first_page_is_cached(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    ids = [anthropic.add_managed(sandbox.state, "agents", f"agent {n}") for n in range(3)]
    integration = await anthropic_row(factory, tenant, sandbox)
    url = f"{tenant.base}/integrations/{integration.id}/anthropic_managed_agents/"

    first = (await client.get(url, params={"limit": 2}, headers=tenant.headers)).json()
    assert [a["id"] for a in first["agents"]] == ids[:2]
    assert first["has_more"] is True and first["next_cursor"] == ids[1]
    second = (
        await client.get(url, params={"limit": 2, "after": first["next_cursor"]}, headers=tenant.headers)
    ).json()
    assert [a["id"] for a in second["agents"]] == ids[2:] and second["has_more"] is False
    assert sandbox.state.count_calls("anthropic", "/v1/agents") == 2

    # The default first page is cached; a larger limit is clamped to Anthropic's 100.
    for _ in range(2):
        whole = await client.get(url, params={"limit": 500}, headers=tenant.headers)
        assert [a["id"] for a in whole.json()["agents"]] == ids
    assert sandbox.state.count_calls("anthropic", "/v1/agents") == 3
    anthropic.add_managed(sandbox.state, "agents", "late")
    cached = await client.get(url, params={"force_refresh": "true"}, headers=tenant.headers)
    assert len(cached.json()["agents"]) == 3  # an API key reads through the cache
    assert sandbox.state.count_calls("anthropic", "/v1/agents") == 3

    bad = await client.get(url, params={"limit": 0}, headers=tenant.headers)
    assert bad.status_code == 400 and bad.json()["attr"] == "limit"


@pytest.mark.parametrize("path", LISTS)
async def test_a_refused_key_asks_to_reconnect_and_outages_are_the_envelope(
    client: httpx.AsyncClient,
    tenant: Tenant,
    factory: Factory,
    runtime: Runtime,
    sandbox: SandboxServer,
    path: str,
) -> None:
    sandbox.state.timeout_seconds = 3.0
    for fault, status in (("500", 502), ("timeout", 503)):
        integration = await anthropic_row(factory, tenant, sandbox, key=f"{KEY}-{fault}")
        sandbox.state.inject("anthropic", fault, count=10, path_contains="/v1/")
        response = await client.get(
            f"{tenant.base}/integrations/{integration.id}/{path}/", headers=tenant.headers
        )
        assert response.status_code == status, (fault, response.text)
        assert set(response.json()) == {"type", "code", "detail", "attr"}
        sandbox.state.clear_faults("anthropic")

    integration = await anthropic_row(factory, tenant, sandbox, key=f"{KEY}-refused")
    sandbox.state.inject("anthropic", "401", count=10, path_contains="/v1/")
    refused = await client.get(f"{tenant.base}/integrations/{integration.id}/{path}/", headers=tenant.headers)
    assert refused.status_code == 400
    assert (
        refused.json()["detail"] == "Anthropic API key is no longer valid. Please reconnect the integration."
    )
    assert (await row(runtime, integration.id)).errors == "TOKEN_REFRESH_FAILED"
    sandbox.state.clear_faults("anthropic")

    limited = await anthropic_row(factory, tenant, sandbox, key=f"{KEY}-limited")
    sandbox.state.provider_data("anthropic")["keys"][f"{KEY}-limited"]["allowed"] = False
    denied = await client.get(f"{tenant.base}/integrations/{limited.id}/{path}/", headers=tenant.headers)
    assert denied.status_code == 400
    assert "missing required permissions" in denied.json()["detail"]


@pytest.mark.parametrize("path", LISTS)
async def test_another_kind_and_another_project(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer, path: str
) -> None:
    twilio = await factory.integration(tenant.project, "twilio")
    wrong = await client.get(f"{tenant.base}/integrations/{twilio.id}/{path}/", headers=tenant.headers)
    assert wrong.status_code == 400
    assert (
        wrong.json()["detail"] == f"Integration {twilio.id} is not an Anthropic integration (kind='twilio')"
    )

    stranger = await factory.tenant()
    theirs = await anthropic_row(factory, stranger, sandbox)
    hidden = await client.get(f"{tenant.base}/integrations/{theirs.id}/{path}/", headers=tenant.headers)
    assert hidden.status_code == 404
    assert sandbox.state.count_calls("anthropic", "/v1/") == 0


async def test_a_signed_in_browser_reads_the_first_page_again(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, runtime: Runtime, sandbox: SandboxServer
) -> None:
    anthropic.add_managed(sandbox.state, "vaults", "one")
    integration = await anthropic_row(factory, tenant, sandbox)
    url = f"{tenant.base}/integrations/{integration.id}/anthropic_managed_agent_vaults/"
    assert len((await client.get(url, headers=tenant.headers)).json()["vaults"]) == 1
    anthropic.add_managed(sandbox.state, "vaults", "two")
    async with browser_context(runtime, tenant) as ctx:
        session = await open_resources(ctx, integration.id)
        fresh = await resources.managed_vaults(session, limit=100, after=None, force_refresh=True)
    assert [v["display_name"] for v in fresh["vaults"]] == ["one", "two"]
    assert [v["display_name"] for v in (await client.get(url, headers=tenant.headers)).json()["vaults"]] == [
        "one",
        "two",
    ]
    assert sandbox.state.count_calls("anthropic", "/v1/vaults") == 2
