"""`linkedin_ads_accounts` against the sandbox's LinkedIn Marketing API."""

from __future__ import annotations

import httpx
import pytest

from patchbay.kit import retry
from patchbay.models import Integration
from patchbay.provider_resources.service import open_resources
from patchbay.providers.linkedin import resources as linkedin_resources
from patchbay.providers.linkedin import simulator as linkedin_sim
from patchbay.runtime import Runtime
from patchbay.sandbox.server import SandboxServer
from tests.provider_resources.helpers import browser_context
from tests.providers.resource_checks import check_failure_policy, check_wrong_kind
from tests.support.factory import Factory, Tenant


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry, "BACKOFF_SECONDS", 0.01)


async def linkedin_row(factory: Factory, sandbox: SandboxServer, tenant: Tenant) -> Integration:
    token, _ = sandbox.state.issue_tokens("oauth", "linkedin-ads", {"sub": "m1"}, expires=False, prefix="li")
    return await factory.integration(
        tenant.project, "linkedin-ads", None, {"sub": "m1", "email": "m@example.com"}, {"access_token": token}
    )


async def test_lists_ad_accounts(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    first = linkedin_sim.add_ad_account(sandbox.state, "Brand")
    second = linkedin_sim.add_ad_account(sandbox.state, "Performance", reference="urn:li:person:abc")
    linkedin_sim.set_page_size(sandbox.state, 1)
    integration = await linkedin_row(factory, sandbox, tenant)
    response = await client.get(
        f"{tenant.base}/integrations/{integration.id}/linkedin_ads_accounts/", headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "adAccounts": [
            {"id": first, "name": "Brand", "reference": "urn:li:organization:2414183"},
            {"id": second, "name": "Performance", "reference": "urn:li:person:abc"},
        ]
    }
    assert sandbox.state.count_calls("oauth", "/rest/adAccounts") == 2


async def test_failures(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, factory: Factory, sandbox: SandboxServer
) -> None:
    async def make_row() -> Integration:
        return await linkedin_row(factory, sandbox, tenant)

    await check_failure_policy(
        client,
        tenant,
        runtime,
        sandbox,
        make_row,
        path="linkedin_ads_accounts",
        provider="oauth",
        path_contains="/rest/adAccounts",
    )
    await check_wrong_kind(
        client,
        tenant,
        factory,
        "linkedin_ads_accounts",
        "linkedin_ads_accounts endpoint is only supported for LinkedIn Ads integrations",
    )


async def test_lists_conversion_rules_of_one_account(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    account = linkedin_sim.add_ad_account(sandbox.state, "Brand")
    other = linkedin_sim.add_ad_account(sandbox.state, "Other")
    first = linkedin_sim.add_conversion_rule(sandbox.state, account, "Sign-up")
    second = linkedin_sim.add_conversion_rule(sandbox.state, account, "Purchase")
    linkedin_sim.add_conversion_rule(sandbox.state, other, "Not this one")
    linkedin_sim.set_page_size(sandbox.state, 1)
    integration = await linkedin_row(factory, sandbox, tenant)
    url = f"{tenant.base}/integrations/{integration.id}/linkedin_ads_conversion_rules/"

    response = await client.get(url, params={"accountId": str(account)}, headers=tenant.headers)
    assert response.status_code == 200, response.text
    assert response.json() == {
        "conversionRules": [{"id": first, "name": "Sign-up"}, {"id": second, "name": "Purchase"}]
    }
    assert sandbox.state.count_calls("oauth", "/rest/conversions") == 2  # two pages (start/count)
    again = await client.get(
        url, params={"accountId": str(account), "force_refresh": "true"}, headers=tenant.headers
    )
    assert again.json() == response.json()
    assert sandbox.state.count_calls("oauth", "/rest/conversions") == 2  # an API key reads the cache
    assert (await client.get(url, params={"accountId": str(other)}, headers=tenant.headers)).json() == {
        "conversionRules": [{"id": first + 2, "name": "Not this one"}]
    }


@pytest.mark.parametrize("account_id", ["", "12a", "1 OR 2", "urn:li:sponsoredAccount:1"])
async def test_conversion_rules_need_a_numeric_account(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer, account_id: str
) -> None:
    integration = await linkedin_row(factory, sandbox, tenant)
    response = await client.get(
        f"{tenant.base}/integrations/{integration.id}/linkedin_ads_conversion_rules/",
        params={"accountId": account_id},
        headers=tenant.headers,
    )
    assert response.status_code == 400
    assert response.json()["attr"] == "accountId"
    assert sandbox.state.count_calls("oauth", "/rest/conversions") == 0


async def test_conversion_rules_failures(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, factory: Factory, sandbox: SandboxServer
) -> None:
    async def make_row() -> Integration:
        return await linkedin_row(factory, sandbox, tenant)

    await check_failure_policy(
        client,
        tenant,
        runtime,
        sandbox,
        make_row,
        path="linkedin_ads_conversion_rules",
        provider="oauth",
        path_contains="/rest/conversions",
        query={"accountId": "508000001"},
    )
    twilio = await factory.integration(tenant.project, "twilio")
    wrong = await client.get(
        f"{tenant.base}/integrations/{twilio.id}/linkedin_ads_conversion_rules/",
        params={"accountId": "1"},
        headers=tenant.headers,
    )
    assert wrong.status_code == 400
    assert wrong.json()["detail"] == (
        "linkedin_ads_conversion_rules endpoint is only supported for LinkedIn Ads integrations"
    )
    stranger = await factory.tenant()
    theirs = await linkedin_row(factory, sandbox, stranger)
    hidden = await client.get(
        f"{tenant.base}/integrations/{theirs.id}/linkedin_ads_conversion_rules/",
        params={"accountId": "1"},
        headers=tenant.headers,
    )
    assert hidden.status_code == 404


async def test_a_signed_in_browser_reads_the_rules_again(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, runtime: Runtime, sandbox: SandboxServer
) -> None:
    account = linkedin_sim.add_ad_account(sandbox.state, "Brand")
    linkedin_sim.add_conversion_rule(sandbox.state, account, "Sign-up")
    integration = await linkedin_row(factory, sandbox, tenant)
    url = f"{tenant.base}/integrations/{integration.id}/linkedin_ads_conversion_rules/"
    assert (
        len(
            (await client.get(url, params={"accountId": str(account)}, headers=tenant.headers)).json()[
                "conversionRules"
            ]
        )
        == 1
    )
    linkedin_sim.add_conversion_rule(sandbox.state, account, "Purchase")
    async with browser_context(runtime, tenant) as ctx:
        session = await open_resources(ctx, integration.id)
        fresh = await linkedin_resources.linkedin_ads_conversion_rules(
            session, accountId=str(account), force_refresh=True
        )
    assert [r["name"] for r in fresh["conversionRules"]] == ["Sign-up", "Purchase"]
    assert sandbox.state.count_calls("oauth", "/rest/conversions") == 2
