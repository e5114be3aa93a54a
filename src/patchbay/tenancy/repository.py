"""The two lookups every tenant-scoped request starts with."""

from __future__ import annotations

import uuid

from sqlalchemy import and_, bindparam, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from patchbay.models import Organization, OrganizationMembership, Project

# Built once: this runs on every project request.
_PROJECT_WITH_LEVEL = (
    select(
        Project.id,
        Project.organization_id,
        Project.name,
        Project.api_token,
        OrganizationMembership.level,
    )
    .outerjoin(
        OrganizationMembership,
        and_(
            OrganizationMembership.organization_id == Project.organization_id,
            OrganizationMembership.user_id == bindparam("user_id"),
        ),
    )
    .where(Project.id == bindparam("project_id"))
)


async def project_with_level(session: AsyncSession, project_id: int, user_id: int) -> RowMapping | None:
    # Core execution on the session's connection (same transaction): cheaper than the ORM path.
    conn = await session.connection()
    result = await conn.execute(_PROJECT_WITH_LEVEL, {"project_id": project_id, "user_id": user_id})
    return result.mappings().first()


async def organization_with_level(
    session: AsyncSession, organization_id: uuid.UUID, user_id: int
) -> RowMapping | None:
    stmt = (
        select(Organization.id, Organization.name, OrganizationMembership.level)
        .outerjoin(
            OrganizationMembership,
            and_(
                OrganizationMembership.organization_id == Organization.id,
                OrganizationMembership.user_id == user_id,
            ),
        )
        .where(Organization.id == organization_id)
    )
    return (await session.execute(stmt)).mappings().first()
