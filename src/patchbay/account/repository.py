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

    async def organizations_of(self, user_id: int) -> list[tuple[Organization, int]]:
        rows = await self.session.execute(
            select(Organization, OrganizationMembership.level)
            .join(OrganizationMembership, OrganizationMembership.organization_id == Organization.id)
            .where(OrganizationMembership.user_id == user_id)
            .order_by(Organization.name, Organization.id)
        )
        return [(organization, int(level)) for organization, level in rows.all()]

    async def project(self, project_id: int) -> Project | None:
        return await self.session.get(Project, project_id)

    async def count_keys(self, user_id: int) -> int:
        rows = await self.session.scalars(select(PersonalAPIKey.id).where(PersonalAPIKey.user_id == user_id))
        return len(rows.all())

    async def organizations(self) -> list[Organization]:
        return list((await self.session.scalars(select(Organization).order_by(Organization.name))).all())

    async def projects(self, organization_id: uuid.UUID | None = None) -> list[Project]:
        statement = select(Project).order_by(Project.id)
        if organization_id is not None:
            statement = statement.where(Project.organization_id == organization_id)
        return list((await self.session.scalars(statement)).all())

    async def projects_by_name(self, name: str) -> list[Project]:
        return list((await self.session.scalars(select(Project).where(Project.name == name))).all())

    async def first_project(self, organization_id: uuid.UUID) -> Project | None:
        return await self.session.scalar(
            select(Project).where(Project.organization_id == organization_id).order_by(Project.id).limit(1)
        )

    async def keys_of(self, user_id: int) -> list[PersonalAPIKey]:
        return list(
            (
                await self.session.scalars(
                    select(PersonalAPIKey)
                    .where(PersonalAPIKey.user_id == user_id)
                    .order_by(PersonalAPIKey.created_at, PersonalAPIKey.id)
                )
            ).all()
        )

    async def key(self, key_id: str) -> PersonalAPIKey | None:
        return await self.session.get(PersonalAPIKey, key_id)

    async def delete_key(self, key: PersonalAPIKey) -> None:
        await self.session.delete(key)
        await self.session.flush()

    async def make_current_where_unset(self, project: Project) -> None:
        """Every member of the project's organization without a current project gets this one
        (and its organization, so the two stay consistent)."""
        members = select(OrganizationMembership.user_id).where(
            OrganizationMembership.organization_id == project.organization_id
        )
        await self.session.execute(
            update(User)
            .where(User.current_project_id.is_(None), User.id.in_(members))
            .values(current_project_id=project.id, current_organization_id=project.organization_id)
            .execution_options(synchronize_session="fetch")
        )

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
