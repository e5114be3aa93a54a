"""Provider failures during the code exchange become PostHog's "{kind} OAuth failed: …" messages
(or 429/502/503 for rate limits and outages); nothing is stored. Reconnecting upserts."""

from __future__ import annotations

import time

import httpx
import pytest
from sqlalchemy import update

from patchbay.models import TOKEN_REFRESH_FAILED, Integration, MembershipLevel
from patchbay.runtime import Runtime
from patchbay.sandbox.server import SandboxServer
from patchbay.simkit import oauth as _oauth
from tests.oauth.helpers import connect, consent, row, rows, secrets_of
from tests.support.factory import Factory, Tenant


async def finish(
    client: httpx.AsyncClient, tenant: Tenant, kind: str, *, code: str | None = None
) -> httpx.Response:
    given = await consent(client, tenant, kind)
    return await client.post(
        f"{tenant.base}/integrations/",
        json={"kind": kind, "config": {"code": code or given.code, "state": given.state}},
        headers=tenant.headers,
    )


async def test_slack_error_in_a_200(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    response = await finish(client, tenant, "slack", code="code-bogus")
    assert response.status_code == 400
    assert response.json()["detail"] == "slack OAuth failed: invalid_code"
    assert await rows(runtime) == []


async def test_oauth_error_body(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    response = await finish(client, tenant, "linear", code="code-bogus")
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert (
        detail.startswith("linear OAuth failed: invalid_grant") and "authorization grant is invalid" in detail
    )


@pytest.mark.parametrize(
    ("mode", "status", "detail"),
    [
        ("500", 502, "hubspot OAuth failed (status 500). Please try again."),
        ("timeout", 503, "hubspot did not respond in time. Please try connecting again."),
        ("malformed", 400, "hubspot OAuth failed: <html>upstream garbage"),
        ("429", 429, None),
    ],
)
async def test_token_endpoint_failures(
    mode: str, status: int, detail: str | None,
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer,
) -> None:  # fmt: skip
    sandbox.state.inject("hubspot", mode, path_contains="/oauth/v1/token", retry_after=11)
    response = await finish(client, tenant, "hubspot")
    assert response.status_code == status, response.text
    if detail:
        assert response.json()["detail"] == detail
    else:
        assert response.headers["Retry-After"] == "11"
    assert await rows(runtime) == []


async def test_token_info_timeout(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    sandbox.state.inject("clickup", "timeout", path_contains="/v2/user")
    response = await finish(client, tenant, "clickup")
    assert response.status_code == 503
    assert response.json()["detail"] == (
        "clickup did not respond in time while we confirmed your account. Please try connecting again."
    )
    assert await rows(runtime) == []


async def test_missing_account_id_is_not_a_bare_500(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    sandbox.state.inject("clickup", "401", path_contains="/v2/user")
    response = await finish(client, tenant, "clickup")
    assert response.status_code == 502
    assert response.json()["detail"] == "Oauth error: failed to extract integration ID for clickup"


async def test_jira_without_sites_and_tiktok_without_advertisers(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    _oauth.set_knob(sandbox.state, "oauth", "no_sites", True)
    _oauth.set_knob(sandbox.state, "oauth", "no_advertisers", True)
    jira = await finish(client, tenant, "jira")
    assert jira.status_code == 400 and jira.json()["detail"].startswith("No accessible Jira sites found.")
    tiktok = await finish(client, tenant, "tiktok-ads")
    assert tiktok.status_code == 400 and tiktok.json()["detail"].startswith(
        "No TikTok ad accounts were authorized."
    )
    assert await rows(runtime) == []


async def test_reconnect_keeps_row_and_clears_failure_state(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    pk = await connect(client, tenant, "linear")
    first = secrets_of(runtime, await row(runtime, pk))
    stored = await row(runtime, pk)
    failed = {**stored.config, "refresh_failure_count": 3, "refresh_next_attempt_at": int(time.time()) + 99,
              "refresh_terminal": True}  # fmt: skip
    async with runtime.db.transaction() as session:
        await session.execute(
            update(Integration).where(Integration.id == pk).values(config=failed, errors=TOKEN_REFRESH_FAILED)
        )
    again = await connect(client, tenant, "linear")
    assert again == pk
    reconnected = await row(runtime, pk)
    assert reconnected.errors == ""
    assert not {"refresh_failure_count", "refresh_next_attempt_at", "refresh_terminal"} & set(
        reconnected.config
    )
    assert secrets_of(runtime, reconnected)["access_token"] != first["access_token"]
    assert len(await rows(runtime)) == 1


async def test_other_account_is_a_second_row(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    await connect(client, tenant, "slack")
    _oauth.set_account(
        sandbox.state, "slack", "slack", {"team_id": "T0OTHER", "team_name": "Other", "user_id": "U9"}
    )
    await connect(client, tenant, "slack")
    assert sorted(r.integration_id or "" for r in await rows(runtime)) == ["T0OTHER", "T0SANDBOX"]


async def test_member_cannot_overwrite_through_the_callback(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, runtime: Runtime, sandbox: SandboxServer
) -> None:
    await connect(client, tenant, "slack")
    member = await factory.member_of(tenant, level=MembershipLevel.MEMBER)
    given = await consent(client, member, "slack")
    response = await client.get(given.callback_path)
    assert response.status_code == 403
    assert response.json()["detail"] == "Editing an existing integration requires project admin access."
    [only] = await rows(runtime)
    assert only.created_by_id == tenant.user.id


async def test_slack_secrets_beyond_tokens_are_encrypted(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    # Ask for an incoming webhook: its URL is a credential and must not stay in config.
    from patchbay.providers import catalog

    original = catalog.OAUTH_PROVIDERS["slack"]
    catalog.OAUTH_PROVIDERS["slack"] = type(original)(
        **{**original.__dict__, "scope": original.scope + ",incoming-webhook"}
    )
    try:
        pk = await connect(client, tenant, "slack")
    finally:
        catalog.OAUTH_PROVIDERS["slack"] = original
    stored = await row(runtime, pk)
    assert "url" not in stored.config["incoming_webhook"]
    assert stored.config["incoming_webhook"]["channel"] == "#general"
    assert secrets_of(runtime, stored)["incoming_webhook.url"].startswith("https://hooks.slack.invalid/")
    assert stored.config["authed_user"] == {"id": "U0INSTALLER"}
