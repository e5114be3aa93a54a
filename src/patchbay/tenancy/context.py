"""Who is calling, on which project or organization, at which level."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from patchbay.auth.service import AuthSubject, AuthUser
from patchbay.models import MembershipLevel
from patchbay.runtime import Runtime


@dataclass(frozen=True)
class ProjectRef:
    id: int
    organization_id: uuid.UUID
    name: str
    api_token: str


@dataclass
class ProjectContext:
    runtime: Runtime
    session: AsyncSession
    subject: AuthSubject
    project: ProjectRef
    # Effective project level: the organization level capped at ADMIN (PostHog without access control).
    level: int

    @property
    def user(self) -> AuthUser:
        return self.subject.user

    @property
    def organization_id(self) -> uuid.UUID:
        return self.project.organization_id

    @property
    def is_project_admin(self) -> bool:
        return self.level >= MembershipLevel.ADMIN


@dataclass
class OrganizationContext:
    runtime: Runtime
    session: AsyncSession
    subject: AuthSubject
    organization_id: uuid.UUID
    organization_name: str
    level: int

    @property
    def user(self) -> AuthUser:
        return self.subject.user

    @property
    def is_admin(self) -> bool:
        return self.level >= MembershipLevel.ADMIN


@dataclass
class UserContext:
    """An authenticated caller outside any tenant path (e.g. /api/vercel/connect/complete/)."""

    runtime: Runtime
    session: AsyncSession
    subject: AuthSubject

    @property
    def user(self) -> AuthUser:
        return self.subject.user


def project_level(membership_level: int) -> int:
    """The effective project level of an organization member: capped at ADMIN (PostHog without
    access control, where owners act as admins on projects)."""
    return min(int(membership_level), int(MembershipLevel.ADMIN))
