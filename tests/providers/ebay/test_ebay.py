"""eBay as an OAuth kind through the sandbox: the consent round trip (with and without a RuName),
HTTP Basic at the token endpoint, the account from the Commerce Identity API, the refresh, and the
failures of the exchange."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from patchbay.config import Settings
from patchbay.providers import registry
from patchbay.providers.ebay import simulator as ebay
from patchbay.runtime import Runtime
from patchbay.sandbox.server import SandboxServer
from tests.oauth.helpers import connect, consent, row, secrets_of
from tests.providers.credential_kinds import app_with
from tests.support.factory import Tenant


async def test_connect_through_the_sandbox(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    pk = await connect(client, tenant, "ebay")
    stored = await row(runtime, pk)
    assert stored.integration_id == ebay.DEFAULT_USER["userId"]
    response = await client.get(f"{tenant.base}/integrations/{pk}", headers=tenant.headers)
    body = response.json()
    assert body["kind"] == "ebay" and body["display_name"] == "sandbox_seller"
    assert body["config"]["userId"] == ebay.DEFAULT_USER["userId"] and body["config"]["expires_in"] == 7200
    secrets = secrets_of(runtime, stored)
    assert secrets["access_token"].startswith("v^1.1#ebay") and secrets["refresh_token"]
    assert secrets["access_token"] not in response.text and secrets["refresh_token"] not in response.text
    assert sandbox.state.count_calls("ebay", "/commerce/identity/v1/user/") == 1


async def test_the_authorize_url_asks_for_the_identity_scope(client: httpx.AsyncClient, tenant: Tenant) -> None:
    given = await consent(client, tenant, "ebay")
    query = parse_qs(urlsplit(given.authorize_location).query)
    assert query["scope"] == [registry.oauth_provider("ebay").scope]  # type: ignore[union-attr]
    assert "commerce.identity.readonly" in query["scope"][0]
    assert query["redirect_uri"] == ["http://testserver/integrations/ebay/callback"]
    assert given.code is not None


async def test_the_runame_stands_in_for_the_redirect_uri(
    make_settings: Any, runtime: Runtime, sandbox: SandboxServer, settings: Settings
) -> None:
    ebay.register_runame(sandbox.state, "Sandbox_Co-SandboxC-patchb-abcde", "http://testserver/integrations/ebay/callback")
    overrides = {**settings.kind_overrides, "PATCHBAY_EBAY_RUNAME": "Sandbox_Co-SandboxC-patchb-abcde"}
    async with app_with(make_settings, kind_overrides=overrides) as (client, tenant):
        given = await consent(client, tenant, "ebay")
        assert parse_qs(urlsplit(given.authorize_location).query)["redirect_uri"] == ["Sandbox_Co-SandboxC-patchb-abcde"]
        finished = await client.get(given.callback_path)
        assert finished.status_code == 302, finished.text
        assert "integration_id" in finished.headers["location"]


@pytest.mark.parametrize(("fault", "status"), [("401", 400), ("500", 502), ("timeout", 503)])
async def test_a_failed_exchange_creates_nothing(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer, fault: str, status: int
) -> None:
    given = await consent(client, tenant, "ebay")
    sandbox.state.inject("ebay", fault, path_contains="/identity/v1/oauth2/token")
    finished = await client.get(given.callback_path)
    assert finished.status_code == status, finished.text
    assert finished.json()["detail"].startswith("ebay ")
    listed = await client.get(f"{tenant.base}/integrations/", headers=tenant.headers)
    assert listed.json()["count"] == 0
