"""The activity log's reads stay inside one integration of one project and the retention window:
rows of a sibling integration, of another project (even one naming the same integration id, which
only a bug could write) and rows past the window are never returned."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from patchbay.activity import repository
from patchbay.kit.pagination import PageParams
from patchbay.runtime import Runtime
from tests.support.factory import Factory


async def test_reads_keep_to_one_integration_of_one_project_and_the_window(
    runtime: Runtime, factory: Factory
) -> None:
    tenant, other = await factory.tenant(), await factory.tenant()
    mine = await factory.integration(tenant.project, "twilio", "AC-mine")
    sibling = await factory.integration(tenant.project, "twilio", "AC-sibling")
    now = datetime.now(UTC)
    rows = [
        (mine.id, tenant.project.id, "mine", now),
        (sibling.id, tenant.project.id, "sibling", now),
        (mine.id, other.project.id, "crafted", now + timedelta(minutes=5)),  # same id, another project
        (mine.id, tenant.project.id, "too old", now - timedelta(days=40)),
    ]
    async with runtime.db.transaction() as session:
        await repository.insert_rows(
            session,
            [
                {"integration_id": pk, "project_id": project, "action": "check", "outcome": outcome, "created_at": at}
                for pk, project, outcome, at in rows
            ],
        )
    since = now - timedelta(days=30)
    async with runtime.db.session() as session:
        count, page = await repository.page(
            session, project_id=tenant.project.id, integration_id=mine.id, since=since,
            params=PageParams(limit=10, offset=0),
        )  # fmt: skip
        latest = await repository.latest_per_integration(
            session, project_id=tenant.project.id, integration_ids=[mine.id], since=since
        )
    assert count == 1 and [row["outcome"] for row in page] == ["mine"]
    assert set(latest) == {mine.id}
    assert abs((latest[mine.id].replace(tzinfo=UTC) - now).total_seconds()) < 1
