"""GET …/integrations/{id}/activity/: newest first, paginated, the retention window, tenancy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import update

from patchbay.activity.service import record_activity
from patchbay.models import Integration, IntegrationActivity
from patchbay.runtime import Runtime
from tests.support.factory import Factory, Tenant

FIELDS = [
    "id",
    "action",
    "outcome",
    "method",
    "path",
    "status_code",
    "duration_ms",
    "api_key_id",
    "created_at",
]


async def _record(runtime: Runtime, row: Integration, count: int) -> None:
    async with runtime.db.transaction() as session:
        for n in range(count):
            await record_activity(
                session, integration_id=row.id, team_id=row.project_id, action="proxy", outcome="success",
                status_code=200 + n, duration_ms=1.5, method="GET", path=f"/call/{n}", api_key_id="k",
            )  # fmt: skip


async def test_newest_first_and_paginated(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, factory: Factory
) -> None:
    row = await factory.integration(tenant.project)
    await _record(runtime, row, 3)
    url = f"{tenant.base}/integrations/{row.id}/activity/"
    first = await client.get(url, params={"limit": 2}, headers=tenant.headers)
    assert first.status_code == 200, first.text
    page = first.json()
    assert page["count"] == 3 and page["previous"] is None and "offset=2" in page["next"]
    assert list(page["results"][0]) == FIELDS
    assert [r["path"] for r in page["results"]] == ["/call/2", "/call/1"]
    second = await client.get(url, params={"limit": 2, "offset": 2}, headers=tenant.headers)
    assert [r["path"] for r in second.json()["results"]] == ["/call/0"]
    assert second.json()["next"] is None
    assert second.json()["results"][0]["created_at"].endswith("Z")


async def test_rows_past_the_retention_are_not_shown(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, factory: Factory
) -> None:
    row = await factory.integration(tenant.project)
    await _record(runtime, row, 2)
    async with runtime.db.transaction() as session:
        await session.execute(
            update(IntegrationActivity)
            .where(IntegrationActivity.path == "/call/0")
            .values(created_at=datetime.now(UTC) - timedelta(days=30, minutes=1))
        )
    body = (await client.get(f"{tenant.base}/integrations/{row.id}/activity/", headers=tenant.headers)).json()
    assert body["count"] == 1 and [r["path"] for r in body["results"]] == ["/call/1"]


async def test_another_projects_integration_is_404_and_rows_do_not_leak(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, factory: Factory
) -> None:
    other = await factory.tenant()
    theirs = await factory.integration(other.project)
    await _record(runtime, theirs, 1)
    answer = await client.get(f"{tenant.base}/integrations/{theirs.id}/activity/", headers=tenant.headers)
    assert answer.status_code == 404 and answer.json()["type"] == "invalid_request"
    mine = await factory.integration(tenant.project)
    empty = await client.get(f"{tenant.base}/integrations/{mine.id}/activity/", headers=tenant.headers)
    assert empty.json() == {"count": 0, "next": None, "previous": None, "results": []}
