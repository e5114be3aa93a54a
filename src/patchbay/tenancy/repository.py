"""The two lookups every tenant-scoped request starts with."""

from __future__ import annotations

import uuid

from sqlalchemy import and_, select
from sqlalchemy.engine import RowMapping
from sqlalchemy.ext.asyncio import AsyncSession

from patchbay.models import Organization, OrganizationMembership, Project


async def project_with_level(session: AsyncSession, project_id: int, user_id: int) -> RowMapping | None:
    stmt = (
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
                OrganizationMembership.user_id == user_id,
            ),
        )
        .where(Project.id == project_id)
    )
    return (await session.execute(stmt)).mappings().first()


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
