"""One upstream-failure policy for every provider (issue 4 item 4), through the API, with nothing
stored lost: secrets and config stay byte-for-byte, cached lists keep being served."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from patchbay.kit import retry
from patchbay.kit.errors import APIError
from patchbay.models import Integration
from patchbay.providers.clickup import simulator_api as clickup_api
from patchbay.providers.linear import simulator_api as linear_api
from patchbay.providers.slack import simulator_api as slack_api
from patchbay.providers.twilio import simulator as twilio_sim
from patchbay.runtime import Runtime
from patchbay.sandbox.server import SandboxServer, free_port
from tests.provider_resources.helpers import (
    INSTALLER,
    browser_context,
    clickup_integration,
    linear_integration,
    slack_channels,
    slack_integration,
)
from tests.support.factory import Factory, Tenant

AUTH_DETAIL = (
    "This integration's authentication is no longer valid. "
    "Please reconnect or disconnect this integration and connect a different account."
)
SLACK_INACTIVE = {
    "type": "server_error",
    "code": "slack_integration_inactive",
    "detail": "Your Slack connection is no longer active. Reconnect Slack to load channels and pick a destination.",
    "attr": None,
}


@dataclass
class Case:
    provider: str
    path: str
    secret: str
    row: Integration


Setup = Callable[[Factory, SandboxServer, Tenant], Awaitable[Case]]


async def slack_case(factory: Factory, sandbox: SandboxServer, tenant: Tenant) -> Case:
    slack_api.add_channel(sandbox.state, "general", members=[INSTALLER])
    row, token = await slack_integration(factory, sandbox, tenant)
    return Case("slack", "channels", token, row)


async def clickup_case(factory: Factory, sandbox: SandboxServer, tenant: Tenant) -> Case:
    clickup_api.add_workspace(sandbox.state, "Acme", workspace_id="9001")
    row, token = await clickup_integration(factory, sandbox, tenant)
    return Case("clickup", "clickup_workspaces", token, row)


async def linear_case(factory: Factory, sandbox: SandboxServer, tenant: Tenant) -> Case:
    linear_api.add_team(sandbox.state, "Engineering")
    row, token = await linear_integration(factory, sandbox, tenant)
    return Case("linear", "linear_teams", token, row)


async def twilio_case(factory: Factory, sandbox: SandboxServer, tenant: Tenant) -> Case:
    secret = "twilio-sentinel-auth-token"
    sid = twilio_sim.add_account(sandbox.state, auth_token=secret)
    twilio_sim.add_number(sandbox.state, sid, "+14155551234", "Main")
    row = await factory.integration(
        tenant.project, "twilio", sid, {"account_sid": sid}, {"auth_token": secret}, tenant.user
    )
    return Case("twilio", "twilio_phone_numbers", secret, row)


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Same retry count, shorter sleeps (the backoff itself is tested in test_policy.py)."""
    monkeypatch.setattr(retry, "BACKOFF_SECONDS", 0.01)


CASES: dict[str, Setup] = {
    "slack": slack_case,
    "clickup": clickup_case,
    "linear": linear_case,
    "twilio": twilio_case,
}
PROVIDERS = list(CASES)


async def stored(runtime: Runtime, pk: int) -> tuple[str, dict[str, Any], str]:
    async with runtime.db.session() as session:
        row = await session.scalar(select(Integration).where(Integration.id == pk))
        assert row is not None
        return row.sensitive_config, dict(row.config or {}), row.errors


async def call(client: httpx.AsyncClient, tenant: Tenant, case: Case, **params: Any) -> httpx.Response:
    url = f"{tenant.base}/integrations/{case.row.id}/{case.path}/"
    return await client.get(url, headers=tenant.headers, params=params)


async def forced(client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, case: Case) -> int:
    """The status of a forced refresh. Slack honours force_refresh for a signed-in browser only (API
    keys read the cache), so Slack's goes through a browser context; Twilio's through the API."""
    if case.provider != "slack":
        return (await call(client, tenant, case, force_refresh="true")).status_code
    async with browser_context(runtime, tenant) as ctx:
        try:
            await slack_channels(
                ctx, case.row.id, search="", limit=50, offset=0, channel_id="", force_refresh=True
            )
        except APIError as exc:
            return exc.status_code
    return 200


def assert_clean(case: Case, response: httpx.Response, caplog: pytest.LogCaptureFixture) -> None:
    assert case.secret not in response.text
    assert case.secret not in str(response.headers)
    assert case.secret not in caplog.text


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_invalid_credentials_are_actionable_400(
    client: httpx.AsyncClient,
    tenant: Tenant,
    factory: Factory,
    sandbox: SandboxServer,
    runtime: Runtime,
    caplog: pytest.LogCaptureFixture,
    provider: str,
) -> None:
    caplog.set_level(logging.DEBUG)
    case = await CASES[provider](factory, sandbox, tenant)
    before = await stored(runtime, case.row.id)
    sandbox.state.inject(provider, "401", count=5)
    response = await call(client, tenant, case)
    assert response.status_code == 400
    if provider == "slack":
        assert response.json() == SLACK_INACTIVE
    else:
        assert response.json() == {
            "type": "validation_error",
            "code": "invalid_input",
            "detail": AUTH_DETAIL,
            "attr": None,
        }
    # Never retried: one call reached the provider.
    assert sandbox.state.count_calls(provider) == 1
    secrets, config, errors = await stored(runtime, case.row.id)
    assert (secrets, config) == before[:2]
    # PostHog marks ClickUp rows (and Linear's OAuth rows alike); never Slack or Twilio.
    assert errors == ("TOKEN_REFRESH_FAILED" if provider in {"clickup", "linear"} else "")
    assert_clean(case, response, caplog)


async def test_revoked_slack_token_is_slack_integration_inactive(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    case = await slack_case(factory, sandbox, tenant)
    sandbox.state.revoke(case.secret)
    response = await call(client, tenant, case)
    assert response.status_code == 400 and response.json() == SLACK_INACTIVE


async def test_revoked_clickup_token_marks_row_and_then_asks_to_reconnect(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer, runtime: Runtime
) -> None:
    case = await clickup_case(factory, sandbox, tenant)
    sandbox.state.revoke(case.secret)
    first = await call(client, tenant, case)
    assert first.status_code == 400 and first.json()["detail"] == AUTH_DETAIL
    retrieved = await client.get(f"{tenant.base}/integrations/{case.row.id}/", headers=tenant.headers)
    assert retrieved.json()["errors"] == "TOKEN_REFRESH_FAILED"
    second = await call(client, tenant, case)
    assert second.status_code == 400 and "reconnect" in second.json()["detail"]
    assert sandbox.state.count_calls("clickup") == 1


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_missing_permission_is_400(
    client: httpx.AsyncClient,
    tenant: Tenant,
    factory: Factory,
    sandbox: SandboxServer,
    runtime: Runtime,
    provider: str,
) -> None:
    case = await CASES[provider](factory, sandbox, tenant)
    sandbox.state.inject(provider, "403", count=5)
    response = await call(client, tenant, case)
    assert response.status_code == 400
    body = response.json()
    if provider == "slack":
        assert body["code"] == "slack_integration_inactive" and "missing the permission" in body["detail"]
    else:
        assert body["detail"].startswith("This integration does not have permission")
    assert (await stored(runtime, case.row.id))[2] == ""
    assert sandbox.state.count_calls(provider) == 1


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_rate_limited_is_429_with_providers_retry_after(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer, provider: str
) -> None:
    case = await CASES[provider](factory, sandbox, tenant)
    sandbox.state.inject(provider, "429", count=5, retry_after=17)
    response = await call(client, tenant, case)
    assert response.status_code == 429
    assert response.json()["type"] == "throttled_error" and response.json()["code"] == "provider_rate_limited"
    # Slack and Twilio send Retry-After; ClickUp a reset epoch in seconds, Linear one in milliseconds.
    assert 16 <= int(response.headers["Retry-After"]) <= 18
    assert sandbox.state.count_calls(provider) == 1


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("mode", ["500", "malformed"])
async def test_outage_or_malformed_is_502_after_bounded_retries(
    client: httpx.AsyncClient,
    tenant: Tenant,
    factory: Factory,
    sandbox: SandboxServer,
    provider: str,
    mode: str,
) -> None:
    case = await CASES[provider](factory, sandbox, tenant)
    sandbox.state.inject(provider, mode, count=10)
    response = await call(client, tenant, case)
    assert response.status_code == 502
    assert response.json()["type"] == "server_error" and response.json()["code"] == "provider_unavailable"
    assert sandbox.state.count_calls(provider) == 3


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_one_transient_failure_is_retried_transparently(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer, provider: str
) -> None:
    case = await CASES[provider](factory, sandbox, tenant)
    sandbox.state.inject(provider, "503", count=1)
    response = await call(client, tenant, case)
    assert response.status_code == 200, response.text
    assert sandbox.state.count_calls(provider) >= 2


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_timeout_is_503(
    client: httpx.AsyncClient,
    tenant: Tenant,
    factory: Factory,
    sandbox: SandboxServer,
    runtime: Runtime,
    provider: str,
) -> None:
    runtime.settings.http_timeout = 0.2
    case = await CASES[provider](factory, sandbox, tenant)
    sandbox.state.inject(provider, "timeout", count=3)
    response = await call(client, tenant, case)
    assert response.status_code == 503
    assert response.json()["code"] == "provider_unreachable"
    assert sandbox.state.count_calls(provider) == 3


@pytest.mark.parametrize("provider", PROVIDERS)
async def test_unreachable_provider_is_503(
    make_settings: Any,
    database_url: str,
    tenant: Tenant,
    factory: Factory,
    sandbox: SandboxServer,
    provider: str,
) -> None:
    from patchbay.app import create_app
    from patchbay.config import kind_env_name
    from patchbay.runtime import build_runtime

    case = await CASES[provider](factory, sandbox, tenant)
    dead = f"http://127.0.0.1:{free_port()}"
    settings = make_settings(kind_overrides={kind_env_name(provider, "API_URL"): dead + "/api"})
    rt = build_runtime(settings)
    try:
        transport = httpx.ASGITransport(app=create_app(settings, rt))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as other:
            response = await call(other, tenant, case)
    finally:
        await rt.close()
    assert response.status_code == 503 and response.json()["code"] == "provider_unreachable"


@pytest.mark.parametrize("provider", ["slack", "twilio"])
async def test_failed_refresh_keeps_serving_the_cached_list(
    client: httpx.AsyncClient,
    tenant: Tenant,
    factory: Factory,
    sandbox: SandboxServer,
    runtime: Runtime,
    provider: str,
) -> None:
    case = await CASES[provider](factory, sandbox, tenant)
    first = await call(client, tenant, case)
    assert first.status_code == 200
    before = await stored(runtime, case.row.id)
    for mode, status in (("500", 502), ("429", 429), ("401", 400)):
        sandbox.state.inject(provider, mode, count=10)
        assert (await forced(client, runtime, tenant, case)) == status
        sandbox.state.clear_faults()
        again = await call(client, tenant, case)
        assert again.status_code == 200 and again.json() == first.json()
    assert await stored(runtime, case.row.id) == before
