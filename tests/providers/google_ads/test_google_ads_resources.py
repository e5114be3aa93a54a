"""`google_accessible_accounts` and `google_conversion_actions` against the sandbox's Google Ads API."""

from __future__ import annotations

import httpx
import pytest

from patchbay.kit import retry
from patchbay.models import Integration
from patchbay.providers.google_ads import simulator as ads_sim
from patchbay.runtime import Runtime
from patchbay.sandbox.server import SandboxServer
from tests.providers.resource_checks import check_failure_policy, check_wrong_kind
from tests.support.factory import Factory, Tenant


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry, "BACKOFF_SECONDS", 0.01)


async def ads_row(factory: Factory, sandbox: SandboxServer, tenant: Tenant) -> Integration:
    token, _ = sandbox.state.issue_tokens("google", "google-ads", {"sub": "1"}, expires=False, prefix="ya29")
    return await factory.integration(
        tenant.project, "google-ads", None, {"sub": "1", "email": "a@example.com"}, {"access_token": token}
    )


async def test_accessible_accounts_walk_the_hierarchy(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    ads_sim.add_account(sandbox.state, "111", "111", "Manager", manager=True)
    ads_sim.add_account(sandbox.state, "111", "222", "Client A", level=1)
    ads_sim.add_account(sandbox.state, "111", "333", "Paused", level=1, status="CANCELED")
    ads_sim.add_account(sandbox.state, "222", "222", "Client A")  # also reachable directly: kept at level 0
    integration = await ads_row(factory, sandbox, tenant)
    response = await client.get(
        f"{tenant.base}/integrations/{integration.id}/google_accessible_accounts/", headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "accessibleAccounts": [
            {"parent_id": "111", "id": "111", "level": None, "name": "Manager", "manager": True},
            {"parent_id": "222", "id": "222", "level": None, "name": "Client A", "manager": False},
        ]
    }


async def test_conversion_actions(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    ads_sim.add_account(sandbox.state, "111", "222", "Client A", level=1)
    action = ads_sim.add_conversion_action(sandbox.state, "222", "Sign-up")
    integration = await ads_row(factory, sandbox, tenant)
    url = f"{tenant.base}/integrations/{integration.id}/google_conversion_actions/"
    response = await client.get(url, params={"customerId": "222", "parentId": "111"}, headers=tenant.headers)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "conversionActions": [
            {"id": action, "name": "Sign-up", "resourceName": f"customers/222/conversionActions/{action}"}
        ]
    }
    missing = await client.get(url, headers=tenant.headers)
    assert missing.status_code == 400 and missing.json()["attr"] == "customerId"
    bad = await client.get(url, params={"customerId": "../x"}, headers=tenant.headers)
    assert bad.status_code == 400 and bad.json()["attr"] == "customerId"
    denied = await client.get(url, params={"customerId": "999", "parentId": "111"}, headers=tenant.headers)
    assert denied.status_code == 400 and "permission" in denied.json()["detail"]


async def test_failures(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, factory: Factory, sandbox: SandboxServer
) -> None:
    ads_sim.add_account(sandbox.state, "111", "111", "Manager", manager=True)

    async def make_row() -> Integration:
        return await ads_row(factory, sandbox, tenant)

    await check_failure_policy(
        client,
        tenant,
        runtime,
        sandbox,
        make_row,
        path="google_accessible_accounts",
        provider="google",
        path_contains="/v24/",
    )
    await check_wrong_kind(
        client,
        tenant,
        factory,
        "google_conversion_actions",
        "google_conversion_actions endpoint is only supported for Google Ads integrations",
    )
