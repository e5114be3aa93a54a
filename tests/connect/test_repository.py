"""ConnectSessionRepository's single-use claim: spent once, never after expiry, and given back only
by the claim that took it (the session's own id and the instant it was claimed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from patchbay.connect.repository import ConnectSessionRepository
from patchbay.runtime import Runtime
from tests.connect.helpers import create_session, sessions
from tests.support.factory import Tenant


async def two_sessions(client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime) -> tuple[int, int]:
    for _ in range(2):
        created = await create_session(client, tenant, kinds=["slack"])
        assert created.status_code == 201, created.text
    first, second = (row.id for row in await sessions(runtime))
    return first, second


async def used_at(runtime: Runtime) -> dict[int, datetime | None]:
    return {row.id: row.used_at for row in await sessions(runtime)}


async def test_a_session_is_claimed_once_and_never_after_expiry(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    first, second = await two_sessions(client, tenant, runtime)
    now = datetime.now(UTC).replace(tzinfo=None)
    async with runtime.db.transaction() as session:
        repo = ConnectSessionRepository(session)
        assert await repo.claim(first, now)
        assert not await repo.claim(first, now + timedelta(seconds=1))  # spent
        assert not await repo.claim(second, now + timedelta(days=1))  # expired by then
    assert (await used_at(runtime))[second] is None


async def test_a_release_gives_back_only_its_own_claim(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    first, second = await two_sessions(client, tenant, runtime)
    now = datetime.now(UTC).replace(tzinfo=None)
    async with runtime.db.transaction() as session:
        repo = ConnectSessionRepository(session)
        assert await repo.claim(first, now) and await repo.claim(second, now)  # the same instant
        await repo.release(first, now)
        await repo.release(second, now - timedelta(seconds=1))  # not the claim that holds it
    after = await used_at(runtime)
    assert after[first] is None
    assert after[second] is not None
