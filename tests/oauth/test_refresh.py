"""Refreshing against the sandbox: PostHog's behaviours (reference §G), stored state after success
and failure, the ensure_fresh_token guard and the background refresher."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import update

from patchbay.kit.errors import ProviderUnavailable, ProviderUnreachable, ValidationError
from patchbay.models import TOKEN_REFRESH_FAILED, Integration
from patchbay.oauth.refresh import ensure_fresh_token, refresh_due_integrations, refresh_integration
from patchbay.runtime import Runtime, build_runtime
from patchbay.sandbox.server import SandboxServer
from patchbay.simkit import oauth as _oauth
from tests.oauth.helpers import connect, row, secrets_of
from tests.support.factory import Factory, Tenant


async def age(runtime: Runtime, pk: int, seconds: float, **extra: Any) -> Integration:
    """Move the row's refreshed_at into the past (and set other config keys)."""
    current = await row(runtime, pk)
    config = {**current.config, "refreshed_at": int(time.time() - seconds), **extra}
    async with runtime.db.transaction() as session:
        await session.execute(update(Integration).where(Integration.id == pk).values(config=config))
    return await row(runtime, pk)


def refresh_grants(sandbox: SandboxServer, provider: str) -> int:
    return _oauth.grants(sandbox.state, provider, "refresh_token")


async def test_fresh_token_is_used_as_is(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    pk = await connect(client, tenant, "linear")
    stored = await row(runtime, pk)
    fresh = await ensure_fresh_token(runtime, stored)
    assert fresh.access_token == secrets_of(runtime, stored)["access_token"]
    assert not fresh.refreshed and refresh_grants(sandbox, "linear") == 0


async def test_expired_token_is_refreshed_and_rotated(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    pk = await connect(client, tenant, "linear")
    before = secrets_of(runtime, await row(runtime, pk))
    aged = await age(runtime, pk, 3000)  # 3600 s tokens: past the half-life
    fresh = await ensure_fresh_token(runtime, aged)
    assert fresh.refreshed and refresh_grants(sandbox, "linear") == 1
    after_row = await row(runtime, pk)
    after = secrets_of(runtime, after_row)
    assert after["access_token"] == fresh.access_token != before["access_token"]
    assert after["refresh_token"] != before["refresh_token"]
    # The provider rotated: the old refresh token is dead, the stored one is live.
    assert before["refresh_token"] not in sandbox.state.refresh_tokens
    assert after["refresh_token"] in sandbox.state.refresh_tokens
    assert after_row.config["refreshed_at"] >= int(time.time()) - 5
    assert after_row.config["expires_in"] == sandbox.state.token_lifetime
    assert after_row.errors == ""


async def test_hubspot_refresh_keeps_refresh_token(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    pk = await connect(client, tenant, "hubspot")
    before = secrets_of(runtime, await row(runtime, pk))
    fresh = await ensure_fresh_token(runtime, await age(runtime, pk, 1000))
    assert fresh.refreshed
    after_row = await row(runtime, pk)
    after = secrets_of(runtime, after_row)
    assert after["refresh_token"] == before["refresh_token"]
    assert after["access_token"] != before["access_token"]
    assert after_row.config["expires_in"] == 1800
    assert after_row.config["hub_id"] == 62515


async def test_failed_refresh_leaves_secrets_untouched(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    pk = await connect(client, tenant, "hubspot")
    aged = await age(runtime, pk, 1000)
    sandbox.state.inject("hubspot", "401", path_contains="/oauth/v1/token")
    result = await refresh_integration(runtime, pk, tenant.project.id)
    assert result.failure == "other" and not result.refreshed
    after = await row(runtime, pk)
    assert after.errors == TOKEN_REFRESH_FAILED
    assert after.sensitive_config == aged.sensitive_config  # byte for byte
    assert after.config["expires_in"] == aged.config["expires_in"]
    assert after.config["refreshed_at"] == aged.config["refreshed_at"]
    assert after.config["refresh_failure_count"] == 1
    assert after.config["refresh_next_attempt_at"] - time.time() == pytest.approx(120, abs=5)


async def test_dead_refresh_token_counts_invalid_grants(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    pk = await connect(client, tenant, "linear")
    await age(runtime, pk, 3000)
    sandbox.state.revoke(secrets_of(runtime, await row(runtime, pk))["refresh_token"])
    result = await refresh_integration(runtime, pk, tenant.project.id)
    assert result.failure == "invalid_grant"
    stored = await row(runtime, pk)
    assert stored.config["refresh_invalid_grant_count"] == 1 and not stored.config.get("refresh_terminal")
    # A forced retry after four more invalid_grants parks the row for good.
    for _ in range(4):
        await refresh_integration(runtime, pk, tenant.project.id, force=True)
    assert (await row(runtime, pk)).config["refresh_terminal"] is True


async def test_reddit_and_hubspot_failure_classes(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    for kind in ("reddit-ads", "hubspot"):
        pk = await connect(client, tenant, kind)
        await age(runtime, pk, 10_000_000)
        sandbox.state.revoke(secrets_of(runtime, await row(runtime, pk))["refresh_token"])
        result = await refresh_integration(runtime, pk, tenant.project.id)
        assert result.failure == "invalid_grant", kind


@pytest.mark.parametrize(
    ("mode", "failure", "error"),
    [
        ("500", "http_5xx", ProviderUnavailable),
        ("timeout", "network", ProviderUnreachable),
        ("malformed", "other", ValidationError),
    ],
)
async def test_transient_failures_with_dead_token(
    mode: str, failure: str, error: type[Exception],
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer,
) -> None:  # fmt: skip
    pk = await connect(client, tenant, "linear")
    aged = await age(runtime, pk, 4000)  # past the real expiry: the old token is no use
    sandbox.state.inject("linear", mode, count=2, path_contains="/oauth/token")  # 5xx is retried once
    with pytest.raises(error):
        await ensure_fresh_token(runtime, aged)
    stored = await row(runtime, pk)
    assert stored.errors == TOKEN_REFRESH_FAILED
    assert stored.config["refresh_failure_count"] == 1
    assert stored.sensitive_config == aged.sensitive_config


async def test_rate_limited_refresh_answers_429(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    pk = await connect(client, tenant, "linear")
    aged = await age(runtime, pk, 4000)
    sandbox.state.inject("linear", "429", path_contains="/oauth/token", retry_after=9)
    with pytest.raises(Exception) as caught:
        await ensure_fresh_token(runtime, aged)
    assert getattr(caught.value, "status_code", None) == 429
    assert caught.value.headers["Retry-After"] == "9"  # type: ignore[attr-defined]


async def test_failure_with_still_valid_token_keeps_serving_it(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    pk = await connect(client, tenant, "linear")
    aged = await age(runtime, pk, 2000)  # past half-life, not past expiry
    sandbox.state.inject("linear", "500", count=2, path_contains="/oauth/token")
    fresh = await ensure_fresh_token(runtime, aged)
    assert fresh.access_token == secrets_of(runtime, aged)["access_token"]
    # In backoff now: no second provider call until the backoff ends.
    await ensure_fresh_token(runtime, await row(runtime, pk))
    # The exchange and one refresh (its 5xx retried once in the call).
    assert sandbox.state.count_calls("linear", "/oauth/token", "POST") == 3


async def test_one_5xx_is_retried_in_the_call(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    pk = await connect(client, tenant, "linear")
    await age(runtime, pk, 3000)
    sandbox.state.inject("linear", "503", count=1, path_contains="/oauth/token")
    assert (await refresh_integration(runtime, pk, tenant.project.id)).refreshed
    assert sandbox.state.count_calls("linear", "/oauth/token", "POST") == 3  # exchange, 503, success
    assert (await row(runtime, pk)).health_status == "healthy"


async def test_success_after_failure_clears_errors(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    pk = await connect(client, tenant, "linear")
    await age(runtime, pk, 3000)
    sandbox.state.inject("linear", "500", count=2, path_contains="/oauth/token")
    await refresh_integration(runtime, pk, tenant.project.id)
    assert (await row(runtime, pk)).errors == TOKEN_REFRESH_FAILED
    result = await refresh_integration(runtime, pk, tenant.project.id, force=True)
    assert result.refreshed
    stored = await row(runtime, pk)
    assert stored.errors == "" and "refresh_failure_count" not in stored.config
    got = await client.get(f"{tenant.base}/integrations/{pk}/", headers=tenant.headers)
    assert got.json()["errors"] == ""


async def test_unreadable_refresh_token_is_terminal_without_a_call(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    pk = await connect(client, tenant, "linear")
    foreign = Fernet(Fernet.generate_key()).encrypt(b'{"refresh_token": "x"}').decode()
    async with runtime.db.transaction() as session:
        await session.execute(
            update(Integration).where(Integration.id == pk).values(sensitive_config=foreign)
        )
    result = await refresh_integration(runtime, pk, tenant.project.id, force=True)
    assert result.failure == "unreadable"
    stored = await row(runtime, pk)
    assert stored.config["refresh_terminal"] is True and stored.errors == TOKEN_REFRESH_FAILED
    assert refresh_grants(sandbox, "linear") == 0
    with pytest.raises(ValidationError):
        await ensure_fresh_token(runtime, stored)


async def test_token_without_refresh_marked_failed_asks_to_reconnect(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    pk = await connect(client, tenant, "clickup")
    async with runtime.db.transaction() as session:
        await session.execute(
            update(Integration).where(Integration.id == pk).values(errors=TOKEN_REFRESH_FAILED)
        )
    with pytest.raises(ValidationError) as caught:
        await ensure_fresh_token(runtime, await row(runtime, pk))
    assert "could not be refreshed" in str(caught.value)


async def test_fallback_client_is_tried_and_flagged(
    make_settings: Any,
    factory: Factory,
    client: httpx.AsyncClient,
    tenant: Tenant,
    runtime: Runtime,
    sandbox: SandboxServer,
) -> None:
    pk = await connect(client, tenant, "hubspot")
    await age(runtime, pk, 1000)
    rotated = build_runtime(
        make_settings(
            kind_overrides={
                "PATCHBAY_HUBSPOT_CLIENT_ID": "new-app-id",
                "PATCHBAY_HUBSPOT_CLIENT_SECRET": "new-app-secret",
                "PATCHBAY_HUBSPOT_FALLBACK_CLIENT_ID": "sandbox-client-id",
                "PATCHBAY_HUBSPOT_FALLBACK_CLIENT_SECRET": "sandbox-client-secret",
            }
        )
    )
    try:
        result = await refresh_integration(rotated, pk, tenant.project.id)
    finally:
        await rotated.close()
    assert result.refreshed
    assert (
        sandbox.state.count_calls("hubspot", "/oauth/v1/token", "POST") == 3
    )  # exchange + primary + fallback
    assert (await row(runtime, pk)).config["oauth_uses_legacy_client"] is True
    # With the primary working again the flag is cleared.
    await refresh_integration(runtime, pk, tenant.project.id, force=True)
    assert "oauth_uses_legacy_client" not in (await row(runtime, pk)).config


async def test_salesforce_and_stripe_refresh(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    for kind in ("salesforce", "stripe"):
        pk = await connect(client, tenant, kind)
        result = await refresh_integration(runtime, pk, tenant.project.id, force=True)
        assert result.refreshed, kind
        assert (await row(runtime, pk)).config["expires_in"] == 3600


async def test_salesforce_sandbox_org_falls_back_to_test_host(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    _oauth.set_knob(sandbox.state, "salesforce", "sandbox_org", True)
    pk = await connect(client, tenant, "salesforce")
    stored = await row(runtime, pk)
    assert stored.config["sandbox"] is True
    assert sandbox.state.count_calls("salesforce", "/login/services/oauth2/token") == 1
    assert sandbox.state.count_calls("salesforce", "/test/services/oauth2/token") == 1
    result = await refresh_integration(runtime, pk, tenant.project.id, force=True)
    assert result.refreshed
    assert sandbox.state.count_calls("salesforce", "/test/services/oauth2/token") == 2


async def test_background_refresher_pass(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    due = await connect(client, tenant, "linear")
    await age(runtime, due, 3000)
    fresh = await connect(client, tenant, "hubspot")
    parked = await connect(client, tenant, "google-sheets")
    await age(runtime, parked, 3000, refresh_next_attempt_at=int(time.time() + 600), refresh_failure_count=1)
    terminal = await connect(client, tenant, "google-ads")
    await age(runtime, terminal, 3000, refresh_terminal=True)
    await connect(client, tenant, "clickup")  # no refresh token at all
    assert await refresh_due_integrations(runtime) == 1
    assert refresh_grants(sandbox, "linear") == 1
    assert refresh_grants(sandbox, "hubspot") == 0 and refresh_grants(sandbox, "google") == 0
    assert (await row(runtime, fresh)).errors == ""
    # A second pass finds nothing due.
    assert await refresh_due_integrations(runtime) == 0


async def test_refresher_loop_runs_until_stopped_and_purges_old_states(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    import asyncio
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import func, select

    from patchbay.models import OAuthState
    from patchbay.oauth.refresh import run_background_refresher

    due = await connect(client, tenant, "linear")
    await age(runtime, due, 3000)
    async with runtime.db.transaction() as session:
        await session.execute(update(OAuthState).values(expires_at=datetime.now(UTC) - timedelta(days=2)))
    stop = asyncio.Event()
    task = asyncio.create_task(run_background_refresher(runtime, interval=0.05, stop=stop))
    for _ in range(100):
        if refresh_grants(sandbox, "linear"):
            break
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, timeout=5)
    assert refresh_grants(sandbox, "linear") == 1
    async with runtime.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(OAuthState)) == 0


async def test_slack_token_rotation(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    _oauth.set_knob(sandbox.state, "slack", "rotation", True)
    pk = await connect(client, tenant, "slack")
    stored = await row(runtime, pk)
    before = secrets_of(runtime, stored)
    assert before["refresh_token"] and stored.config["expires_in"] == sandbox.state.token_lifetime
    fresh = await ensure_fresh_token(runtime, await age(runtime, pk, 3000))
    assert fresh.refreshed
    after = secrets_of(runtime, await row(runtime, pk))
    assert after["refresh_token"] != before["refresh_token"]
    assert after["refresh_token"] in sandbox.state.refresh_tokens
    # The refreshed bot token works against the Slack API simulator.
    async with httpx.AsyncClient() as http:
        probe = await http.post(
            f"{sandbox.base_url}/slack/api/auth.test",
            headers={"Authorization": f"Bearer {after['access_token']}"},
        )
    assert probe.json()["ok"] is True


@pytest.mark.parametrize("enabled", [True, False])
async def test_app_lifespan_runs_the_refresher_when_enabled(
    client: httpx.AsyncClient,
    tenant: Tenant,
    runtime: Runtime,
    sandbox: SandboxServer,
    make_settings: Any,
    enabled: bool,
) -> None:
    import asyncio

    from patchbay.app import create_app

    due = await connect(client, tenant, "linear")
    await age(runtime, due, 3000)
    settings = make_settings(refresher=enabled, refresher_interval=0.05)
    served = create_app(settings, build_runtime(settings))
    async with served.router.lifespan_context(served):
        for _ in range(60):
            if refresh_grants(sandbox, "linear"):
                break
            await asyncio.sleep(0.05)
    assert refresh_grants(sandbox, "linear") == (1 if enabled else 0)
