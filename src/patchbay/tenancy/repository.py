"""The two lookups every tenant-scoped request starts with."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from patchbay.auth.repository import KEY_LOOKUP
from patchbay.kit.db import FixedQuery, Row
from patchbay.models import Organization, OrganizationMembership, Project, User

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


async def project_with_level(session: AsyncSession, project_id: int, user_id: int) -> Row | None:
    # Core execution on the session's connection (same transaction): cheaper than the ORM path.
    conn = await session.connection()
    result = await conn.execute(_PROJECT_WITH_LEVEL, {"project_id": project_id, "user_id": user_id})
    return result.mappings().first()


def _caller_with_project(project_ref: ColumnElement[bool]) -> Select[Any]:  # pragma: no mutate block
    # Runs at import only (mutation testing cannot reach it): tests/tenancy/test_statements.py guards it.
    return (
        KEY_LOOKUP.add_columns(
            Project.id.label("project_id"),
            Project.organization_id.label("project_organization_id"),
            Project.name.label("project_name"),
            Project.api_token.label("project_api_token"),
            OrganizationMembership.level.label("level"),
        )
        .outerjoin(Project, project_ref)
        .outerjoin(
            OrganizationMembership,
            and_(
                OrganizationMembership.organization_id == Project.organization_id,
                OrganizationMembership.user_id == User.id,
            ),
        )
    )


_CALLER_WITH_PROJECT = FixedQuery(_caller_with_project(Project.id == bindparam("project_id")))
_CALLER_WITH_CURRENT_PROJECT = FixedQuery(_caller_with_project(Project.id == User.current_project_id))


async def caller_with_project(session: AsyncSession, secure_value: str, project_id: int | None) -> Row | None:
    """The key's caller and, in the same round trip, the project (`None`: their current one) with
    their membership level. Project columns are null when it does not exist; no row: unknown key."""
    if project_id is None:
        return await _CALLER_WITH_CURRENT_PROJECT.first(session, {"secure_value": secure_value})
    return await _CALLER_WITH_PROJECT.first(session, {"secure_value": secure_value, "project_id": project_id})


async def organization_with_level(
    session: AsyncSession, organization_id: uuid.UUID, user_id: int
) -> Row | None:
    stmt = (
        # The id is never read (a mutant dropping it is equivalent).
        select(Organization.id, Organization.name, OrganizationMembership.level)  # pragma: no mutate
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


async def active_user(session: AsyncSession, user_id: int) -> User | None:
    user = await session.scalar(select(User).where(User.id == user_id))
    return user if user is not None and user.is_active else None
