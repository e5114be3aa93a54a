"""Group commit: concurrent rows are all committed when their writes return, and a failing batch
fails the writes that were in it."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from patchbay.activity import writer
from patchbay.activity.service import activity_row
from patchbay.models import IntegrationActivity
from patchbay.runtime import Runtime
from tests.support.factory import Factory


async def test_concurrent_rows_are_committed_when_their_writes_return(
    runtime: Runtime, factory: Factory
) -> None:
    tenant = await factory.tenant()
    row = await factory.integration(tenant.project)

    async def one(n: int) -> None:
        await writer.write(
            runtime,
            activity_row(integration_id=row.id, team_id=tenant.project.id, action="proxy", outcome=str(n)),
        )

    await asyncio.gather(*[one(n) for n in range(20)])
    async with runtime.db.session() as session:  # committed: another session sees every row
        outcomes = sorted(int(o) for o in await session.scalars(select(IntegrationActivity.outcome)))
    assert outcomes == list(range(20))
    await one(20)  # a lone write is committed when it returns, too
    async with runtime.db.session() as session:
        assert await session.scalar(select(func.count()).select_from(IntegrationActivity)) == 21


async def test_a_failing_batch_fails_its_writes_and_the_next_batch_still_commits(
    runtime: Runtime, factory: Factory
) -> None:
    tenant = await factory.tenant()
    row = await factory.integration(tenant.project)
    bad = activity_row(integration_id=row.id + 1000, team_id=tenant.project.id, action="proxy", outcome="bad")
    # PostgreSQL: the batch goes straight to asyncpg (one statement); SQLite: through SQLAlchemy.
    with pytest.raises((IntegrityError, asyncpg.IntegrityConstraintViolationError)):
        await writer.write(runtime, bad)
    await writer.write(
        runtime, activity_row(integration_id=row.id, team_id=tenant.project.id, action="proxy", outcome="ok")
    )
    async with runtime.db.session() as session:
        assert list(await session.scalars(select(IntegrationActivity.outcome))) == ["ok"]
