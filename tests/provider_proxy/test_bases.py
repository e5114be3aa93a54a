"""Proxy bases of catalogue OAuth kinds: a kind whose data API is not its sign-in host is proxied to the
data API (the catalogue's `proxy_base`), Salesforce to the org's own trusted instance, and each is moved
by PATCHBAY_<KIND>_PROXY_URL (the sandbox's). Calls go through the sandbox's simulators."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from patchbay.config import Settings, kind_env_name
from patchbay.kit.errors import ValidationError
from patchbay.models import Integration
from patchbay.providers import registry
from patchbay.providers.bearer_proxy import BearerProxy
from patchbay.providers.jira import simulator as jira_sim
from patchbay.providers.linkedin import simulator as linkedin_sim
from patchbay.providers.salesforce import simulator as salesforce_sim
from patchbay.sandbox.server import SandboxServer
from tests.support.factory import Factory, Tenant

TOKEN_SENTINEL = "sentinel-proxy-base-token"


def bearer(kind: str) -> BearerProxy:
    proxy = registry.proxy_auth(kind)
    assert isinstance(proxy, BearerProxy)
    return proxy


def unmoved(make_settings: Any, *kinds: str, **extra: str) -> Settings:
    """Settings as production has them for these kinds: no simulator base (API and proxy URLs unset)."""
    blank = {kind_env_name(kind, suffix): "" for kind in kinds for suffix in ("API_URL", "PROXY_URL")}
    settings: Settings = make_settings(kind_overrides={**blank, **extra})
    return settings


@pytest.mark.parametrize(
    ("kind", "base"),
    [
        ("google-ads", "https://googleads.googleapis.com"),
        ("google-sheets", "https://sheets.googleapis.com"),
        ("google-calendar", "https://www.googleapis.com"),
        ("jira", "https://api.atlassian.com"),
        ("linkedin-ads", "https://api.linkedin.com"),
        ("snapchat", "https://adsapi.snapchat.com"),
        ("reddit-ads", "https://ads-api.reddit.com"),
        ("bing-ads", "https://campaign.api.bingads.microsoft.com"),
        ("pardot", "https://pi.pardot.com"),
        ("clickup", "https://api.clickup.com/api"),
        ("hubspot", "https://api.hubapi.com"),
    ],
)
def test_the_data_api_not_the_sign_in_host(make_settings: Any, kind: str, base: str) -> None:
    assert bearer(kind).base_url(unmoved(make_settings, kind), {}) == base


def test_which_setting_moves_a_base(make_settings: Any) -> None:
    google = unmoved(
        make_settings, "google-ads", **{kind_env_name("google-ads", "API_URL"): "https://oauth.internal"}
    )
    # Moving Google's OAuth host does not move its data API ...
    assert bearer("google-ads").base_url(google, {}) == "https://googleads.googleapis.com"
    moved = unmoved(
        make_settings, "google-ads", **{kind_env_name("google-ads", "PROXY_URL"): "https://ads.internal"}
    )
    assert bearer("google-ads").base_url(moved, {}) == "https://ads.internal"  # ... its proxy URL does.
    # Where the data API is the OAuth host, the API URL moves both, as it always did.
    clickup = unmoved(
        make_settings, "clickup", **{kind_env_name("clickup", "API_URL"): "https://cu.internal/api"}
    )
    assert bearer("clickup").base_url(clickup, {}) == "https://cu.internal/api"


@pytest.mark.parametrize(
    ("instance", "base"),
    [
        ("https://acme.my.salesforce.com", "https://acme.my.salesforce.com"),
        ("https://ACME.lightning.force.com/", "https://acme.lightning.force.com"),
        ("https://na1.salesforce.com/services/data", "https://na1.salesforce.com"),
        ("http://acme.my.salesforce.com", None),
        ("https://acme.my.salesforce.com:8443", None),
        ("https://user@acme.my.salesforce.com", None),
        ("https://salesforce.com.evil.example", None),
        ("https://evil.example/acme.salesforce.com", None),
        ("", None),
        (None, None),
    ],
)
def test_salesforce_calls_the_orgs_trusted_instance(
    make_settings: Any, instance: Any, base: str | None
) -> None:
    settings = unmoved(make_settings, "salesforce")
    config = {"instance_url": instance} if instance is not None else {}
    if base is None:
        with pytest.raises(ValidationError) as refused:
            bearer("salesforce").base_url(settings, config)
        assert (
            refused.value.detail == "This integration names no trusted instance to call. Please reconnect it."
        )
    else:
        assert bearer("salesforce").base_url(settings, config) == base


async def _row(
    factory: Factory, tenant: Tenant, kind: str, token: str, config: dict[str, Any]
) -> Integration:
    return await factory.integration(tenant.project, kind, None, config, {"access_token": token})


async def test_salesforce_and_pardot_through_the_sandbox(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    token, _ = sandbox.state.issue_tokens("salesforce", "salesforce", {"org": "00DORG"}, expires=False)
    instance = f"{sandbox.base_url}/salesforce/instance/00DORG"
    org = await _row(factory, tenant, "salesforce", token, {"instance_url": instance})
    answer = await client.get(
        f"{tenant.base}/integrations/{org.id}/proxy/services/data", headers=tenant.headers
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["patchbay-proxy"] == "upstream"
    assert answer.json() == salesforce_sim.API_VERSIONS
    called = [c for c in sandbox.state.calls if c.path.endswith("/instance/00DORG/services/data")]
    assert [c.headers["authorization"] for c in called] == [f"Bearer {token}"]

    # An instance outside the configured base is not called.
    elsewhere = await _row(factory, tenant, "salesforce", token, {"instance_url": "http://127.0.0.1:9/x"})
    refused = await client.get(
        f"{tenant.base}/integrations/{elsewhere.id}/proxy/services/data", headers=tenant.headers
    )
    assert refused.status_code == 400 and "patchbay-proxy" not in refused.headers
    assert sandbox.state.count_calls("salesforce", "/services/data") == 1

    pardot = await _row(factory, tenant, "pardot", token, {"instance_url": instance})
    headers = {**tenant.headers, "Patchbay-Proxy-Pardot-Business-Unit-Id": "0Uv000000000001"}
    campaigns = await client.get(
        f"{tenant.base}/integrations/{pardot.id}/proxy/api/v5/objects/campaigns", headers=headers
    )
    assert campaigns.status_code == 200, campaigns.text
    assert campaigns.json()["values"][0]["name"] == "Sandbox campaign"


async def test_jira_and_linkedin_reach_their_data_apis(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    jira_sim.add_project(sandbox.state, "ENG", "Engineering")
    token, _ = sandbox.state.issue_tokens("oauth", "jira", {"cloud_id": "cloud-1"}, expires=False)
    jira = await _row(factory, tenant, "jira", token, {"cloud_id": "cloud-1"})
    found = await client.get(
        f"{tenant.base}/integrations/{jira.id}/proxy/ex/jira/cloud-1/rest/api/3/project/search",
        headers=tenant.headers,
    )
    assert found.status_code == 200, found.text
    assert [p["key"] for p in found.json()["values"]] == ["ENG"]

    account = linkedin_sim.add_ad_account(sandbox.state, "Brand")
    token, _ = sandbox.state.issue_tokens("oauth", "linkedin-ads", {"sub": "m"}, expires=False)
    linkedin = await _row(factory, tenant, "linkedin-ads", token, {"sub": "m"})
    headers = {**tenant.headers, "Patchbay-Proxy-LinkedIn-Version": "202607"}
    listed = await client.get(
        f"{tenant.base}/integrations/{linkedin.id}/proxy/rest/adAccounts",
        params={"q": "search"},
        headers=headers,
    )
    assert listed.status_code == 200, listed.text
    assert [a["id"] for a in listed.json()["elements"]] == [account]
    assert tenant.key not in str([c.headers for c in sandbox.state.calls])
