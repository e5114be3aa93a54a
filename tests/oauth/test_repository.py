"""The single-use OAuth state at the repository itself, past the service's earlier `used_at` check:
the second consume of a state fails on both backends, and on PostgreSQL a second transaction that
waits on the first one's row lock fails too once the first commits (the order is forced)."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from patchbay.models import OAuthState
from patchbay.oauth.repository import OAuthStateRepository, lock_integration
from patchbay.runtime import Runtime
from tests.support.factory import Factory, Tenant
from tests.support.locks import until_waiting


async def new_state(runtime: Runtime, tenant: Tenant, *, ttl: timedelta = timedelta(minutes=10)) -> str:
    token = secrets.token_urlsafe(24)
    now = datetime.now(UTC)
    async with runtime.db.transaction() as session:
        await OAuthStateRepository(session).insert(
            OAuthState(
                token=token,
                kind="linear",
                user_id=tenant.user.id,
                project_id=tenant.project.id,
                next_url="/",
                secret="",
                created_at=now,
                expires_at=now + ttl,
            )
        )
    return token


async def consume(runtime: Runtime, token: str) -> bool:
    async with runtime.db.transaction() as session:
        return await OAuthStateRepository(session).consume(token, datetime.now(UTC))


async def test_a_state_is_consumed_once(runtime: Runtime, tenant: Tenant) -> None:
    token = await new_state(runtime, tenant)
    other = await new_state(runtime, tenant)
    assert await consume(runtime, token) is True
    assert await consume(runtime, token) is False
    assert await consume(runtime, token) is False
    assert await consume(runtime, other) is True, "consuming one state leaves the others"
    async with runtime.db.session() as session:
        row = await OAuthStateRepository(session).get(token)
    assert row is not None and row.used_at is not None


async def test_unknown_and_expired_states_are_not_consumed(runtime: Runtime, tenant: Tenant) -> None:
    expired = await new_state(runtime, tenant, ttl=timedelta(seconds=-1))
    assert await consume(runtime, expired) is False
    assert await consume(runtime, "no-such-state") is False


async def test_a_waiting_second_consumer_loses_once_the_first_commits(
    runtime: Runtime, tenant: Tenant, backend: str
) -> None:
    if backend != "postgresql":
        pytest.skip("row locks: PostgreSQL (SQLite serialises writers; the sequential test covers it)")
    token = await new_state(runtime, tenant)
    first = runtime.db.sessionmaker()
    second = runtime.db.sessionmaker()
    try:
        await first.begin()
        assert await OAuthStateRepository(first).consume(token, datetime.now(UTC)) is True  # row locked
        await second.begin()
        second_pid = int(await second.scalar(text("SELECT pg_backend_pid()")) or 0)
        contender = asyncio.create_task(OAuthStateRepository(second).consume(token, datetime.now(UTC)))
        await until_waiting(runtime, second_pid)  # the second UPDATE is queued behind the first
        assert not contender.done()
        await first.commit()
        assert await contender is False, "re-checked after the wait: already used"
        await second.commit()
    finally:
        await first.close()
        await second.close()


async def test_the_refresh_lock_takes_the_named_row_of_its_project_only(
    runtime: Runtime, tenant: Tenant, factory: Factory
) -> None:
    other = await factory.tenant()
    first = await factory.integration(tenant.project, "linear", "L1")
    second = await factory.integration(tenant.project, "linear", "L2")
    theirs = await factory.integration(other.project, "linear", "L1")
    sqlite = runtime.db.is_sqlite
    for pk, project_id, expected in (
        (second.id, tenant.project.id, second.id),
        (first.id, tenant.project.id, first.id),
        (theirs.id, tenant.project.id, None),
        (first.id, other.project.id, None),
    ):
        async with runtime.db.session() as session, session.begin():
            locked = await lock_integration(session, pk, project_id, sqlite=sqlite)
            assert (locked.id if locked is not None else None) == expected, (pk, project_id)
