"""Fresh credentials: a token that expires within 5 minutes is refreshed first, once for many
concurrent calls; an upstream 401 makes one refresh and one retry."""

from __future__ import annotations

import asyncio
import time

import httpx
from sqlalchemy import update

from patchbay.models import Integration
from patchbay.providers.asana import simulator as asana_sim
from patchbay.runtime import Runtime
from patchbay.sandbox.server import SandboxServer
from patchbay.simkit import oauth as _oauth
from tests.oauth.helpers import connect, row, secrets_of
from tests.support.factory import Tenant


async def _expiring_in(runtime: Runtime, pk: int, seconds: int) -> None:
    stored = await row(runtime, pk)
    lifetime = int(stored.config["expires_in"])
    config = {**stored.config, "refreshed_at": int(time.time()) - lifetime + seconds}
    async with runtime.db.transaction() as session:
        await session.execute(update(Integration).where(Integration.id == pk).values(config=config))


async def test_an_expiring_slack_token_is_refreshed_once_for_20_concurrent_calls(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    _oauth.set_knob(sandbox.state, "slack", "rotation", True)
    pk = await connect(client, tenant, "slack")
    old = secrets_of(runtime, await row(runtime, pk))
    await _expiring_in(runtime, pk, 240)
    _oauth.set_knob(sandbox.state, "slack", "refresh_delay", 0.3)
    answers = await asyncio.gather(
        *[
            client.get(f"{tenant.base}/integrations/{pk}/proxy/auth.test", headers=tenant.headers)
            for _ in range(20)
        ]
    )
    assert [a.status_code for a in answers] == [200] * 20
    assert all(a.json()["ok"] is True for a in answers), answers[0].text
    assert _oauth.grants(sandbox.state, "slack", "refresh_token") == 1
    new = secrets_of(runtime, await row(runtime, pk))
    assert new["access_token"] != old["access_token"] and new["refresh_token"] != old["refresh_token"]
    # Every call went out with the new token.
    auths = {c.headers["authorization"] for c in sandbox.state.calls if c.path.endswith("/auth.test")}
    assert auths == {f"Bearer {new['access_token']}"}


async def test_the_5_minute_rule_refreshes_before_the_half_life(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    _oauth.set_knob(sandbox.state, "slack", "rotation", True)
    sandbox.state.token_lifetime = 500  # half-life at 250 s; 280 s left is within 5 minutes
    pk = await connect(client, tenant, "slack")
    await _expiring_in(runtime, pk, 280)
    answer = await client.get(f"{tenant.base}/integrations/{pk}/proxy/auth.test", headers=tenant.headers)
    assert answer.status_code == 200 and _oauth.grants(sandbox.state, "slack", "refresh_token") == 1
    # Fresh again: the next call does not refresh.
    await client.get(f"{tenant.base}/integrations/{pk}/proxy/auth.test", headers=tenant.headers)
    assert _oauth.grants(sandbox.state, "slack", "refresh_token") == 1


async def test_a_fresh_token_is_not_refreshed(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    _oauth.set_knob(sandbox.state, "slack", "rotation", True)
    pk = await connect(client, tenant, "slack")
    await _expiring_in(runtime, pk, 3000)
    answer = await client.get(f"{tenant.base}/integrations/{pk}/proxy/auth.test", headers=tenant.headers)
    assert answer.status_code == 200 and _oauth.grants(sandbox.state, "slack", "refresh_token") == 0


async def test_an_upstream_401_refreshes_once_and_retries_once(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    asana_sim.add_workspace(sandbox.state, "Acme")
    pk = await connect(client, tenant, "asana")
    url = f"{tenant.base}/integrations/{pk}/proxy/api/1.0/workspaces"
    sandbox.state.inject("asana", "401", count=1, path_contains="/api/1.0/workspaces")
    answer = await client.get(url, headers=tenant.headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"][0]["name"] == "Acme" and answer.headers["patchbay-proxy"] == "upstream"
    assert _oauth.grants(sandbox.state, "asana", "refresh_token") == 1
    assert sandbox.state.count_calls("asana", "/api/1.0/workspaces") == 2

    # A provider that keeps refusing: one refresh, one retry, then its 401 as it came.
    sandbox.state.inject("asana", "401", count=5, path_contains="/api/1.0/workspaces")
    refused = await client.get(url, headers=tenant.headers)
    assert refused.status_code == 401 and refused.headers["patchbay-proxy"] == "upstream"
    assert _oauth.grants(sandbox.state, "asana", "refresh_token") == 2
    assert sandbox.state.count_calls("asana", "/api/1.0/workspaces") == 4


async def test_a_401_with_a_body_is_retried_with_the_same_body(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    pk = await connect(client, tenant, "asana")
    sandbox.state.inject("asana", "401", count=1, path_contains="/api/1.0/workspaces")
    body = b'{"name": "New workspace"}'
    answer = await client.post(
        f"{tenant.base}/integrations/{pk}/proxy/api/1.0/workspaces",
        content=body,
        headers={**tenant.headers, "Content-Type": "application/json"},
    )
    # The retried call reached the simulator's route, which takes GET only: its 405, passed on.
    assert answer.status_code == 405 and answer.headers["patchbay-proxy"] == "upstream"
    assert _oauth.grants(sandbox.state, "asana", "refresh_token") == 1
    sent = [c for c in sandbox.state.calls if c.path.endswith("/api/1.0/workspaces")]
    assert [c.method for c in sent] == ["POST", "POST"]
    assert [c.headers["content-length"] for c in sent] == [str(len(body))] * 2
    assert sent[0].headers["authorization"] != sent[1].headers["authorization"]
