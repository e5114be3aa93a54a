"""All SQL about users, organizations, memberships, projects and API keys."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from patchbay.models import (
    Organization,
    OrganizationMembership,
    PersonalAPIKey,
    Project,
    User,
)


class AccountRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def user_by_email(self, email: str) -> User | None:
        return await self.session.scalar(select(User).where(User.email == email.lower()))

    async def user_by_id(self, user_id: int) -> User | None:
        return await self.session.get(User, user_id)

    async def add(self, obj: Any) -> Any:
        self.session.add(obj)
        await self.session.flush()
        return obj

    async def organization(self, organization_id: uuid.UUID) -> Organization | None:
        return await self.session.get(Organization, organization_id)

    async def organization_by_name(self, name: str) -> list[Organization]:
        return list((await self.session.scalars(select(Organization).where(Organization.name == name))).all())

    async def membership(self, organization_id: uuid.UUID, user_id: int) -> OrganizationMembership | None:
        return await self.session.scalar(
            select(OrganizationMembership).where(
                OrganizationMembership.organization_id == organization_id,
                OrganizationMembership.user_id == user_id,
            )
        )

    async def member_organization_ids(self, user_id: int) -> set[uuid.UUID]:
        rows = await self.session.scalars(
            select(OrganizationMembership.organization_id).where(OrganizationMembership.user_id == user_id)
        )
        return set(rows.all())

    async def project(self, project_id: int) -> Project | None:
        return await self.session.get(Project, project_id)

    async def count_keys(self, user_id: int) -> int:
        rows = await self.session.scalars(select(PersonalAPIKey.id).where(PersonalAPIKey.user_id == user_id))
        return len(rows.all())

    async def set_current(
        self, user_id: int, organization_id: uuid.UUID | None, project_id: int | None
    ) -> None:
        values: dict[str, Any] = {}
        if organization_id is not None:
            values["current_organization_id"] = organization_id
        if project_id is not None:
            values["current_project_id"] = project_id
        if values:
            await self.session.execute(update(User).where(User.id == user_id).values(**values))
