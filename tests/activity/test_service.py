"""record_activity: what is kept (no query string, no unknown action) and the retention prune."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from patchbay.activity.service import prune_expired, record_activity
from patchbay.models import IntegrationActivity
from patchbay.runtime import Runtime
from tests.support.factory import Factory


async def test_a_row_keeps_the_path_without_its_query(runtime: Runtime, factory: Factory) -> None:
    tenant = await factory.tenant()
    row = await factory.integration(tenant.project)
    async with runtime.db.transaction() as session:
        await record_activity(
            session, integration_id=row.id, team_id=tenant.project.id, action="proxy", outcome="success",
            status_code=200, duration_ms=1.23456, method="post", path="/chat.postMessage?token=sentinel-q",
            api_key_id="key-1",
        )  # fmt: skip
    async with runtime.db.session() as session:
        stored = (await session.scalars(select(IntegrationActivity))).one()
    assert (stored.method, stored.path, stored.status_code) == ("POST", "/chat.postMessage", 200)
    assert stored.duration_ms == pytest.approx(1.235) and stored.api_key_id == "key-1"
    assert stored.project_id == tenant.project.id and stored.integration_id == row.id


async def test_an_unknown_action_is_refused(runtime: Runtime, factory: Factory) -> None:
    tenant = await factory.tenant()
    row = await factory.integration(tenant.project)
    async with runtime.db.transaction() as session:
        with pytest.raises(ValueError, match="unknown activity action"):
            await record_activity(
                session, integration_id=row.id, team_id=tenant.project.id, action="x", outcome="y"
            )


async def test_the_prune_drops_rows_past_the_retention_only(runtime: Runtime, factory: Factory) -> None:
    tenant = await factory.tenant()
    row = await factory.integration(tenant.project)
    async with runtime.db.transaction() as session:
        for outcome in ("old", "recent"):
            await record_activity(
                session, integration_id=row.id, team_id=tenant.project.id, action="check", outcome=outcome
            )
        await session.execute(
            update(IntegrationActivity)
            .where(IntegrationActivity.outcome == "old")
            .values(created_at=datetime.now(UTC) - timedelta(days=31))
        )
    assert await prune_expired(runtime) == 1
    async with runtime.db.session() as session:
        left = list(await session.scalars(select(IntegrationActivity.outcome)))
    assert left == ["recent"]
    # 29 days later, the recent row is 29 days old: still kept; 31 days later it goes.
    assert await prune_expired(runtime, datetime.now(UTC) + timedelta(days=29)) == 0
    assert await prune_expired(runtime, datetime.now(UTC) + timedelta(days=31)) == 1
