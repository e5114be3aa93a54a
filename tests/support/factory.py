"""Builds users, organizations, projects, keys and integrations through the real services."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from patchbay.account import service as accounts
from patchbay.models import Integration, MembershipLevel, Organization, Project, User
from patchbay.runtime import Runtime

_counter = itertools.count(1)


@dataclass
class Tenant:
    user: User
    organization: Organization
    project: Project
    key: str
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"/api/projects/{self.project.id}"

    @property
    def org_base(self) -> str:
        return f"/api/organizations/{self.organization.id}"


class Factory:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def user(self, email: str | None = None) -> User:
        async with self.runtime.db.transaction() as session:
            user, _ = await accounts.ensure_user(session, email or f"user{next(_counter)}@example.com")
            return user

    async def organization(self, owner: User, name: str | None = None) -> Organization:
        async with self.runtime.db.transaction() as session:
            owner = await session.merge(owner)
            return await accounts.create_organization(session, name or f"Org {next(_counter)}", owner)

    async def project(
        self, organization: Organization, name: str | None = None, current_for: User | None = None
    ) -> Project:
        async with self.runtime.db.transaction() as session:
            project = await accounts.create_project(
                session, organization, name or f"Project {next(_counter)}"
            )
            if current_for is not None:
                await accounts.set_current_project(session, await session.merge(current_for), project)
            return project

    async def member(
        self, organization: Organization, user: User, level: int = MembershipLevel.MEMBER
    ) -> None:
        async with self.runtime.db.transaction() as session:
            await accounts.add_member(session, organization, await session.merge(user), level)

    async def key(
        self,
        user: User,
        scopes: list[str] | None = None,
        scoped_projects: list[int] | None = None,
        scoped_organizations: list[str] | None = None,
    ) -> str:
        async with self.runtime.db.transaction() as session:
            created = await accounts.create_api_key(
                session,
                await session.merge(user),
                scopes=scopes,
                scoped_projects=scoped_projects,
                scoped_organizations=scoped_organizations,
            )
            return created.value

    async def tenant(self, scopes: list[str] | None = None, level: int = MembershipLevel.OWNER) -> Tenant:
        """A user with an organization (at `level`), a current project and a key."""
        user = await self.user()
        if level == MembershipLevel.OWNER:
            org = await self.organization(user)
        else:
            owner = await self.user()
            org = await self.organization(owner)
            await self.member(org, user, level)
        project = await self.project(org, current_for=user)
        key = await self.key(user, scopes)
        return Tenant(user, org, project, key, {"Authorization": f"Bearer {key}"})

    async def member_of(
        self, tenant: Tenant, level: int = MembershipLevel.MEMBER, scopes: list[str] | None = None
    ) -> Tenant:
        """Another user in the same organization and project."""
        user = await self.user()
        await self.member(tenant.organization, user, level)
        key = await self.key(user, scopes)
        return Tenant(user, tenant.organization, tenant.project, key, {"Authorization": f"Bearer {key}"})

    async def integration(
        self,
        project: Project,
        kind: str = "twilio",
        integration_id: str | None = None,
        config: dict[str, Any] | None = None,
        sensitive_config: dict[str, Any] | None = None,
        created_by: User | None = None,
        errors: str = "",
    ) -> Integration:
        async with self.runtime.db.transaction() as session:
            row = Integration(
                project_id=project.id,
                kind=kind,
                integration_id=integration_id if integration_id is not None else f"ext-{next(_counter)}",
                config=config or {},
                sensitive_config=self.runtime.keyring.encrypt_json(sensitive_config or {}),
                errors=errors,
                created_by_id=created_by.id if created_by else None,
            )
            session.add(row)
            await session.flush()
            return row
