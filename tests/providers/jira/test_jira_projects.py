"""`jira_projects` against the sandbox's Jira Cloud: PostHog's shape, paging, caching, failures."""

from __future__ import annotations

import httpx
import pytest

from patchbay.kit import retry
from patchbay.models import Integration
from patchbay.providers.jira import simulator as jira_sim
from patchbay.runtime import Runtime
from patchbay.sandbox.server import SandboxServer
from tests.providers.resource_checks import check_failure_policy, check_wrong_kind
from tests.support.factory import Factory, Tenant

CLOUD_ID = "11223344-a1b2-3b33-c444-def123456789"


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry, "BACKOFF_SECONDS", 0.01)


async def jira_row(
    factory: Factory, sandbox: SandboxServer, tenant: Tenant, cloud_id: str = CLOUD_ID
) -> Integration:
    token, _ = sandbox.state.issue_tokens(
        "oauth", "jira", {"cloud_id": CLOUD_ID}, expires=False, prefix="jira"
    )
    return await factory.integration(
        tenant.project,
        "jira",
        None,
        {"cloud_id": cloud_id, "site_name": "sandbox-site"},
        {"access_token": token},
    )


async def test_lists_projects_page_by_page_and_caches(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    ids = [
        jira_sim.add_project(sandbox.state, key, name)
        for key, name in (("WEB", "Website"), ("API", "Api"), ("OPS", "Ops"))
    ]
    jira_sim.set_page_size(sandbox.state, 2)
    integration = await jira_row(factory, sandbox, tenant)
    url = f"{tenant.base}/integrations/{integration.id}/jira_projects/"
    response = await client.get(url, headers=tenant.headers)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "projects": [
            {"id": ids[0], "key": "WEB", "name": "Website"},
            {"id": ids[1], "key": "API", "name": "Api"},
            {"id": ids[2], "key": "OPS", "name": "Ops"},
        ]
    }
    assert sandbox.state.count_calls("oauth", "/project/search") == 2
    assert (await client.get(url, headers=tenant.headers)).json() == response.json()
    assert sandbox.state.count_calls("oauth", "/project/search") == 2  # cached


async def test_missing_cloud_id(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    integration = await jira_row(factory, sandbox, tenant, cloud_id="")
    response = await client.get(
        f"{tenant.base}/integrations/{integration.id}/jira_projects/", headers=tenant.headers
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("Jira integration missing cloud_id")


async def test_failures(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, factory: Factory, sandbox: SandboxServer
) -> None:
    async def make_row() -> Integration:
        return await jira_row(factory, sandbox, tenant)

    await check_failure_policy(
        client,
        tenant,
        runtime,
        sandbox,
        make_row,
        path="jira_projects",
        provider="oauth",
        path_contains="/project/search",
    )
    await check_wrong_kind(
        client,
        tenant,
        factory,
        "jira_projects",
        "jira_projects endpoint is only supported for Jira integrations",
    )
