"""Two refreshers of one expired token, forced to contend in a fixed order (no sleeps): the first
holds the row lock while the provider answers; the second starts meanwhile and waits; the first
commits. The provider sees exactly one refresh grant (its request log), and both callers end up
with the one new token — on PostgreSQL through the row lock, in one process through single-flight."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from patchbay.oauth.refresh import FreshToken, ensure_fresh_token
from patchbay.runtime import Runtime, build_runtime
from patchbay.sandbox.server import SandboxServer
from patchbay.simkit import oauth as _oauth
from tests.oauth.helpers import row, secrets_of
from tests.oauth.test_refresh_race import expired_linear
from tests.support.factory import Tenant
from tests.support.locks import until_waiting


@pytest.fixture
def gate(sandbox: SandboxServer) -> Iterator[_oauth.Gate]:
    held = _oauth.Gate()
    _oauth.set_knob(sandbox.state, "linear", "refresh_gate", held)
    yield held
    held.release.set()  # never leave a grant hanging in the sandbox's thread


def token_calls(sandbox: SandboxServer) -> int:
    return sandbox.state.count_calls("linear", "/oauth/token", method="POST")


async def first_at_the_provider(
    runtime: Runtime, stale: object, gate: _oauth.Gate
) -> asyncio.Task[FreshToken]:
    first = asyncio.create_task(ensure_fresh_token(runtime, stale))  # type: ignore[arg-type]
    arrived = await asyncio.to_thread(gate.arrived.wait, 10)
    assert arrived, "the first refresher never reached the provider"
    return first


async def test_a_second_process_waits_on_the_row_lock_and_reuses_the_token(
    make_settings,  # type: ignore[no-untyped-def]
    client: httpx.AsyncClient,
    tenant: Tenant,
    runtime: Runtime,
    sandbox: SandboxServer,
    gate: _oauth.Gate,
    backend: str,
) -> None:
    if backend != "postgresql":
        pytest.skip("a lock wait is observable on PostgreSQL; SQLite: the sequential test below")
    stale = await expired_linear(client, tenant, runtime)
    calls_before = token_calls(sandbox)
    other = build_runtime(make_settings())  # its own engine and single-flight: another process
    try:
        first = await first_at_the_provider(runtime, stale, gate)  # holds the row lock
        second = asyncio.create_task(ensure_fresh_token(other, stale))
        await until_waiting(runtime)  # the second refresher is queued on the row lock
        assert not second.done()
        gate.release.set()
        won, waited = await first, await second
    finally:
        await other.close()
    assert token_calls(sandbox) - calls_before == 1
    assert _oauth.grants(sandbox.state, "linear", "refresh_token") == 1
    assert won.refreshed and not waited.refreshed, "the second re-read the row under the lock"
    stored = secrets_of(runtime, await row(runtime, stale.id))
    assert won.access_token == waited.access_token == stored["access_token"]
    assert stored["refresh_token"] in sandbox.state.refresh_tokens


async def test_a_second_caller_in_the_process_joins_the_refresh_in_flight(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer, gate: _oauth.Gate
) -> None:
    stale = await expired_linear(client, tenant, runtime)
    calls_before = token_calls(sandbox)
    first = await first_at_the_provider(runtime, stale, gate)
    second = asyncio.create_task(ensure_fresh_token(runtime, stale))
    await asyncio.sleep(0)  # let it start: it finds the refresh in flight and waits for it
    gate.release.set()
    won, joined = await first, await second
    assert token_calls(sandbox) - calls_before == 1
    assert won.refreshed and joined.refreshed, "one refresh, its result handed to both"
    assert won.access_token == joined.access_token


async def test_a_refresher_after_the_first_commit_does_not_refresh_again(
    make_settings,  # type: ignore[no-untyped-def]
    client: httpx.AsyncClient,
    tenant: Tenant,
    runtime: Runtime,
    sandbox: SandboxServer,
) -> None:
    """The sequential case, both backends: a second process holding the stale row refreshes nothing."""
    stale = await expired_linear(client, tenant, runtime)
    other = build_runtime(make_settings())
    try:
        won = await ensure_fresh_token(runtime, stale)
        late = await ensure_fresh_token(other, stale)  # `stale` is the row as read before the refresh
    finally:
        await other.close()
    assert _oauth.grants(sandbox.state, "linear", "refresh_token") == 1
    assert won.refreshed and not late.refreshed and late.access_token == won.access_token
