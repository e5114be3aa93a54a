"""A refresh happens once however many requests want it at the same moment: single-flight in the
process, and a database row lock (re-read after taking it) across processes — here two runtimes
with engines of their own on the same database, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
import time

import httpx
from sqlalchemy import update

from patchbay.models import Integration
from patchbay.oauth.refresh import ensure_fresh_token
from patchbay.runtime import Runtime, build_runtime
from patchbay.sandbox.server import SandboxServer
from patchbay.simkit import oauth as _oauth
from tests.oauth.helpers import connect, row, secrets_of
from tests.support.factory import Tenant


async def expired_linear(client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime) -> Integration:
    pk = await connect(client, tenant, "linear")
    current = await row(runtime, pk)
    config = {**current.config, "refreshed_at": int(time.time() - 3000)}
    async with runtime.db.transaction() as session:
        await session.execute(update(Integration).where(Integration.id == pk).values(config=config))
    return await row(runtime, pk)


async def test_fifty_concurrent_callers_one_refresh(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    stale = await expired_linear(client, tenant, runtime)
    _oauth.set_knob(sandbox.state, "linear", "refresh_delay", 0.3)
    results = await asyncio.gather(*[ensure_fresh_token(runtime, stale) for _ in range(50)])
    assert _oauth.grants(sandbox.state, "linear", "refresh_token") == 1
    tokens = {r.access_token for r in results}
    assert len(tokens) == 1
    stored = secrets_of(runtime, await row(runtime, stale.id))
    assert stored["access_token"] in tokens
    assert stored["refresh_token"] in sandbox.state.refresh_tokens


async def test_two_runtimes_share_one_refresh(
    make_settings,
    client: httpx.AsyncClient,
    tenant: Tenant,
    runtime: Runtime,
    sandbox: SandboxServer,  # type: ignore[no-untyped-def]
) -> None:
    stale = await expired_linear(client, tenant, runtime)
    _oauth.set_knob(sandbox.state, "linear", "refresh_delay", 0.3)
    other = build_runtime(make_settings())  # its own engine, pool and single-flight: another "process"
    try:
        calls = [ensure_fresh_token(runtime if i % 2 else other, stale) for i in range(50)]
        results = await asyncio.gather(*calls)
    finally:
        await other.close()
    assert _oauth.grants(sandbox.state, "linear", "refresh_token") == 1
    stored = secrets_of(runtime, await row(runtime, stale.id))
    assert {r.access_token for r in results} == {stored["access_token"]}
    assert stored["refresh_token"] in sandbox.state.refresh_tokens
