"""The provider-resource cache: per integration, shared through Redis by every process, dropped when
the integration is deleted or reconnected."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from patchbay.app import create_app
from patchbay.provider_resources.service import cache_key, drop_integration_cache
from patchbay.providers.slack import simulator_api as slack_api
from patchbay.providers.twilio import simulator as twilio_sim
from patchbay.runtime import Runtime, build_runtime
from patchbay.sandbox.server import SandboxServer
from tests.conftest import REDIS_URL
from tests.provider_resources.helpers import INSTALLER, slack_integration
from tests.support.factory import Factory, Tenant


@asynccontextmanager
async def process(settings: Any) -> AsyncIterator[tuple[Runtime, httpx.AsyncClient]]:
    """One more Patchbay 'process': its own runtime (cache connection, single-flight, pools)."""
    rt = build_runtime(settings)
    try:
        transport = httpx.ASGITransport(app=create_app(settings, rt))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield rt, client
    finally:
        await rt.close()


@pytest.mark.skipif(not REDIS_URL, reason="PATCHBAY_TEST_REDIS_URL is not set")
async def test_redis_list_fetched_by_one_process_is_served_by_another(
    make_settings: Any, runtime: Runtime, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    slack_api.add_channel(sandbox.state, "general", members=[INSTALLER])
    row, _ = await slack_integration(factory, sandbox, tenant)
    prefix = f"patchbay-test-shared-{secrets.token_hex(4)}:"
    settings_a = make_settings(redis=True, redis_key_prefix=prefix)
    settings_b = make_settings(redis=True, redis_key_prefix=prefix)
    url = f"{tenant.base}/integrations/{row.id}/channels/"
    async with process(settings_a) as (rt_a, a), process(settings_b) as (rt_b, b):
        first = await a.get(url, headers=tenant.headers)
        assert first.status_code == 200
        calls = sandbox.state.count_calls("slack")
        assert calls == 2  # conversations.list + users.conversations
        second = await b.get(url, headers=tenant.headers)
        assert second.json() == first.json()
        assert sandbox.state.count_calls("slack") == calls

        # The channel_id budget is shared too: 20 lookups here, 10 there, the next is refused.
        for i in range(20):
            assert (
                await a.get(url, headers=tenant.headers, params={"channel_id": f"CA{i}"})
            ).status_code == 200
        for i in range(10):
            assert (
                await b.get(url, headers=tenant.headers, params={"channel_id": f"CB{i}"})
            ).status_code == 200
        assert (await a.get(url, headers=tenant.headers, params={"channel_id": "CLAST"})).status_code == 429

        # Deleting through process B drops what process A would serve.
        key = cache_key(row.id, "slack", "channels", "private")
        assert await rt_a.cache.get(key) is not None
        deleted = await b.delete(f"{tenant.base}/integrations/{row.id}/", headers=tenant.headers)
        assert deleted.status_code == 204
        assert await rt_a.cache.get(key) is None


async def test_delete_drops_cached_entries(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    slack_api.add_channel(sandbox.state, "general", members=[INSTALLER])
    row, _ = await slack_integration(factory, sandbox, tenant)
    other = await factory.tenant()
    keep, _ = await slack_integration(factory, sandbox, other)
    for owner, pk in ((tenant, row.id), (other, keep.id)):
        assert (
            await client.get(f"{owner.base}/integrations/{pk}/channels/", headers=owner.headers)
        ).status_code == 200
    response = await client.delete(f"{tenant.base}/integrations/{row.id}/", headers=tenant.headers)
    assert response.status_code == 204
    assert await runtime.cache.get(cache_key(row.id, "slack", "channels", "private")) is None
    # Only that integration's entries go.
    assert await runtime.cache.get(cache_key(keep.id, "slack", "channels", "private")) is not None


async def test_reconnect_drops_cached_entries(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, sandbox: SandboxServer
) -> None:
    secret = "twilio-reconnect-token"
    sid = twilio_sim.add_account(sandbox.state, auth_token=secret)
    twilio_sim.add_number(sandbox.state, sid, "+14155551234", "Main")
    body = {"kind": "twilio", "config": {"account_sid": sid, "auth_token": secret}}
    created = await client.post(f"{tenant.base}/integrations/", headers=tenant.headers, json=body)
    assert created.status_code == 201, created.text
    pk = created.json()["id"]
    url = f"{tenant.base}/integrations/{pk}/twilio_phone_numbers/"
    first = (await client.get(url, headers=tenant.headers)).json()
    assert len(first["phone_numbers"]) == 1
    twilio_sim.add_number(sandbox.state, sid, "+14155550000", "Second")
    assert (await client.get(url, headers=tenant.headers)).json() == first
    # Reconnecting the same account (the create upsert) keeps the row and forgets its cache.
    again = await client.post(f"{tenant.base}/integrations/", headers=tenant.headers, json=body)
    assert again.status_code == 201 and again.json()["id"] == pk
    assert len((await client.get(url, headers=tenant.headers)).json()["phone_numbers"]) == 2
    assert secret not in str(first)


async def test_drop_integration_cache_leaves_other_rows(runtime: Runtime) -> None:
    await runtime.cache.set(cache_key(1, "slack", "users"), {"users": []}, 60)
    await runtime.cache.set(cache_key(12, "slack", "users"), {"users": []}, 60)
    await drop_integration_cache(runtime, 1)
    assert await runtime.cache.get(cache_key(1, "slack", "users")) is None
    assert await runtime.cache.get(cache_key(12, "slack", "users")) == {"users": []}


async def test_fill_claimed_elsewhere_waits_for_its_result(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    """Another process holds the fill claim and delivers: this one serves its list, no Slack call."""
    import asyncio

    row, _ = await slack_integration(factory, sandbox, tenant)
    key = cache_key(row.id, "slack", "channels", "private")
    await runtime.cache.incr(f"{key}:filling", 60)
    delivered = {"channels": [], "lastRefreshedAt": "2026-01-01T00:00:00+00:00"}

    async def other_process() -> None:
        await asyncio.sleep(0.3)
        await runtime.cache.set(key, delivered, 60)

    task = asyncio.create_task(other_process())
    response = await client.get(f"{tenant.base}/integrations/{row.id}/channels/", headers=tenant.headers)
    await task
    assert response.json()["lastRefreshedAt"] == delivered["lastRefreshedAt"]
    assert sandbox.state.count_calls("slack") == 0


async def test_fill_claimed_by_a_dead_process_is_fetched_after_waiting(
    client: httpx.AsyncClient,
    runtime: Runtime,
    tenant: Tenant,
    factory: Factory,
    sandbox: SandboxServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from patchbay.provider_resources import service

    monkeypatch.setattr(service, "FILL_WAIT_SECONDS", 0.3)
    row, _ = await slack_integration(factory, sandbox, tenant)
    key = cache_key(row.id, "slack", "channels", "private")
    await runtime.cache.incr(f"{key}:filling", 60)
    response = await client.get(f"{tenant.base}/integrations/{row.id}/channels/", headers=tenant.headers)
    assert response.status_code == 200
    assert sandbox.state.count_calls("slack", "conversations.list") == 1
