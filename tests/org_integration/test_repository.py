"""OrgIntegrationRepository: an organization's repository reads its own rows only, and deleting one
removes that row and the project integrations of its kind in its own projects — nothing of a
sibling row or of another organization."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import select

from patchbay.kit.pagination import PageParams
from patchbay.models import Integration, OrganizationIntegration
from patchbay.org_integration.repository import OrgIntegrationRepository
from patchbay.runtime import Runtime
from tests.support.factory import Factory, Tenant


async def add(runtime: Runtime, tenant: Tenant, kind: str, integration_id: str) -> uuid.UUID:
    async with runtime.db.transaction() as session:
        row = OrganizationIntegration(
            organization_id=tenant.organization.id,
            kind=kind,
            integration_id=integration_id,
            config={},
            sensitive_config="",
            created_by_id=tenant.user.id,
        )
        await OrgIntegrationRepository(session, tenant.organization.id).add(row)
        return row.id


async def test_every_statement_stays_in_its_organization(
    runtime: Runtime, tenant: Tenant, factory: Factory
) -> None:
    other = await factory.tenant()
    sibling = await factory.project(tenant.organization)
    # Created oldest first: the other organization's row and the other kind come before the answer.
    theirs = await add(runtime, other, "vercel", "icfg_1")
    second = await add(runtime, tenant, "github", "gh_1")
    vercel = await add(runtime, tenant, "vercel", "icfg_1")
    their_project = await factory.integration(other.project, "vercel", "p1")
    mine_other_kind = await factory.integration(tenant.project, "twilio", "AC1")
    mine_project = await factory.integration(tenant.project, "vercel", "p1")

    async with runtime.db.transaction() as session:
        repo = OrgIntegrationRepository(session, tenant.organization.id)
        count, page = await repo.page(params=PageParams(limit=10, offset=0))
        assert count == 2 and {r["id"] for r in page} == {vercel, second}
        assert {r["cb_email"] for r in page} == {tenant.user.email}
        got = await repo.get(second)
        assert got is not None and got["kind"] == "github" and got["cb_email"] == tenant.user.email
        assert await repo.get(theirs) is None and await repo.get_model(theirs) is None
        model = await repo.get_model(second)
        assert model is not None and model.kind == "github"
        first = await repo.first_of_kind("vercel")
        assert first is not None and first.id == vercel
        assert set(await repo.projects([tenant.project.id, other.project.id])) == {tenant.project.id}
        assert set(await repo.projects([sibling.id])) == {sibling.id}
        assert await repo.projects([]) == {}
        assert await repo.project_integration(other.project.id, "vercel") is None
        found = await repo.project_integration(tenant.project.id, "vercel")
        assert found is not None and found.id == mine_project.id
        row = await repo.get_model(vercel)
        assert row is not None
        await repo.delete_with_project_integrations(row)

    async with runtime.db.session() as session:
        org_rows = set((await session.scalars(select(OrganizationIntegration.id))).all())
        project_rows = set((await session.scalars(select(Integration.id))).all())
    assert org_rows == {second, theirs}
    assert project_rows == {mine_other_kind.id, their_project.id}


async def test_deleting_hands_in_another_organizations_row_removes_nothing(
    runtime: Runtime, tenant: Tenant, factory: Factory
) -> None:
    other = await factory.tenant()
    theirs = await add(runtime, other, "vercel", "icfg_9")
    their_project = await factory.integration(other.project, "vercel", "p9")
    async with runtime.db.transaction() as session:
        row = await session.get(OrganizationIntegration, theirs)
        assert row is not None
        await OrgIntegrationRepository(session, tenant.organization.id).delete_with_project_integrations(row)
    async with runtime.db.session() as session:
        assert await session.get(OrganizationIntegration, theirs) is not None
        assert await session.get(Integration, their_project.id) is not None


async def test_first_of_kind_is_the_oldest(runtime: Runtime, tenant: Tenant) -> None:
    newer = await add(runtime, tenant, "vercel", "icfg_new")
    older = await add(runtime, tenant, "vercel", "icfg_old")
    async with runtime.db.transaction() as session:
        row = await session.get(OrganizationIntegration, older)
        assert row is not None
        row.created_at = datetime(2020, 1, 1, tzinfo=UTC)  # inserted second, created first
    async with runtime.db.session() as session:
        first = await OrgIntegrationRepository(session, tenant.organization.id).first_of_kind("vercel")
    assert first is not None and first.id == older and first.id != newer
