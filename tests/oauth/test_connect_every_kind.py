"""Every described OAuth kind, end to end against the sandbox: the browser flow and PostHog's
POST-with-code both store the right account, config and encrypted secrets."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from patchbay.providers.catalog import OAUTH_PROVIDERS
from patchbay.runtime import Runtime
from patchbay.sandbox.server import SandboxServer
from tests.oauth.helpers import connect, consent, row, secrets_of
from tests.support.factory import Tenant

GOOGLE = ("sub", "109876543210987654321", "sandbox.user@gmail.com")


def expected(kind: str, sandbox: SandboxServer) -> tuple[str, str]:
    salesforce = f"{sandbox.base_url}/salesforce/instance/00DSANDBOX0000001"
    table: dict[str, tuple[str, str]] = {
        "slack": ("T0SANDBOX", "Sandbox Workspace"),
        "clickup": ("183", "sandbox@example.com"),
        "linear": ("b6c5a0f4-5bb1-4a1e-9d1c-0e7a6c1f0a11", "Sandbox Inc"),
        "hubspot": ("62515", "sandbox-hub.hubspot.com"),
        "salesforce": (salesforce, salesforce),
        "pardot": (salesforce, salesforce),
        "intercom": ("991267", "admin@sandbox.example"),
        "jira": ("11223344-a1b2-3b33-c444-def123456789", "sandbox-site"),
        "snapchat": ("snap-user-1", "snapper@sandbox.example"),
        "linkedin-ads": ("li-member-1", "linked@sandbox.example"),
        "bing-ads": ("00000000-0000-0000-0000-00000000b1a6", "ads@sandbox.example"),
        "reddit-ads": ("t2_sandbox1", "sandbox_redditor"),
        "pinterest-ads": ("549755885175", "Sandbox Pins Co"),
        "meta-ads": ("10222333444", "Sandbox Advertiser"),
        "instagram": ("17841400000000000", "Sandbox Gram"),
        "stripe": ("acct_1SandboxAcct01", "Sandbox Shop (acct_1SandboxAcct01)"),
        "resend": ("team_sandbox_01", "Sandbox Mail Team"),
        "tiktok-ads": ("7001000000000000001", "tt@sandbox.example"),
    }
    return table.get(kind, (GOOGLE[1], GOOGLE[2]))


def assert_stored(runtime: Runtime, integration: Any, kind: str, integration_id: str) -> None:
    secrets = secrets_of(runtime, integration)
    access = secrets["access_token"]
    assert isinstance(access, str) and access
    assert integration.integration_id == integration_id
    assert integration.errors == ""
    assert isinstance(integration.config["refreshed_at"], int)
    # Tokens live only in the encrypted secrets: not in config, not in the stored ciphertext.
    for key in ("access_token", "refresh_token", "id_token"):
        assert key not in integration.config
    assert access not in str(integration.config)
    assert "token" not in integration.config
    assert access not in integration.sensitive_config
    if OAUTH_PROVIDERS[kind].default_expires_in:
        assert integration.config["expires_in"] == OAUTH_PROVIDERS[kind].default_expires_in


@pytest.mark.parametrize("kind", sorted(OAUTH_PROVIDERS))
async def test_browser_flow_connects(
    kind: str, client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    integration_id, name = expected(kind, sandbox)
    pk = await connect(client, tenant, kind, next_url="/project/settings?tab=integrations")
    stored = await row(runtime, pk)
    assert stored.kind == kind and stored.project_id == tenant.project.id
    assert stored.created_by_id == tenant.user.id
    assert_stored(runtime, stored, kind, integration_id)
    got = await client.get(f"{tenant.base}/integrations/{pk}/", headers=tenant.headers)
    assert got.status_code == 200
    body = got.json()
    assert body["display_name"] == name
    assert body["errors"] == ""
    assert secrets_of(runtime, stored)["access_token"] not in got.text


@pytest.mark.parametrize("kind", sorted(OAUTH_PROVIDERS))
async def test_posthog_post_with_code_connects(
    kind: str, client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    integration_id, name = expected(kind, sandbox)
    given = await consent(client, tenant, kind)
    assert given.code and given.cookie
    # PostHog's state string, as its frontend posts it back.
    parsed = parse_qs(given.state)
    assert len(parsed["token"][0]) == 66 and parsed["next"] == ["/done"]
    assert parsed["team_id"] == [str(tenant.project.id)]
    created = await client.post(
        f"{tenant.base}/integrations/",
        json={"kind": kind, "config": {"code": given.code, "state": given.state}},
        headers=tenant.headers,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["kind"] == kind and body["display_name"] == name
    stored = await row(runtime, body["id"])
    assert_stored(runtime, stored, kind, integration_id)
    assert secrets_of(runtime, stored)["access_token"] not in created.text


async def test_authorize_url_carries_posthog_parameters(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxServer
) -> None:
    given = await consent(client, tenant, "salesforce", next_url="/projects/test")
    query = {k: v[0] for k, v in parse_qs(urlsplit(given.authorize_location).query).items()}
    assert query["client_id"] == "sandbox-client-id"
    assert query["scope"] == "full refresh_token"
    assert query["redirect_uri"] == "http://testserver/integrations/salesforce/callback"
    assert query["response_type"] == "code"
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert parse_qs(query["state"])["next"] == ["/projects/test"]
    assert len(given.cookie or "") == 43  # the browser binding, not the state token


async def test_hubspot_has_no_pkce_and_sends_optional_scope(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxServer
) -> None:
    given = await consent(client, tenant, "hubspot")
    query = parse_qs(urlsplit(given.authorize_location).query)
    assert "code_challenge" not in query
    assert "crm.objects.owners.read" in query["optional_scope"][0]


async def test_tiktok_authorize_uses_app_id(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxServer
) -> None:
    given = await consent(client, tenant, "tiktok-ads")
    query = parse_qs(urlsplit(given.authorize_location).query)
    assert set(query) == {"app_id", "redirect_uri", "state"}
