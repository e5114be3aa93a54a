"""All SQL of email senders (integrations of kind `email`).

Project reads start from `readable_statement`. Two reads look wider on purpose: a sending domain
belongs to one organization (so its senders are found organization-wide), and the SES identity of
a domain is shared by every sender on it (so cleanup asks whether any sender still uses it)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from patchbay.integration.repository import organization_integrations, project_integrations
from patchbay.models import Integration, Project

EMAIL_KIND = "email"


def _domain_is(domain: str) -> ColumnElement[bool]:
    return func.lower(Integration.config["domain"].as_string()) == domain.lower()


class EmailSenderRepository:
    def __init__(self, session: AsyncSession, project_id: int, organization_id: uuid.UUID) -> None:
        self.session = session
        self.project_id = project_id
        self.organization_id = organization_id

    def readable_statement(self) -> Select[Any]:
        return project_integrations(self.project_id).where(Integration.kind == EMAIL_KIND)

    # A default of True would lock, not widen what is read (and SQLite has no row locks).
    async def get(self, pk: int, *, for_update: bool = False) -> Integration | None:  # pragma: no mutate
        stmt = self.readable_statement().where(Integration.id == pk)
        if for_update:
            stmt = stmt.with_for_update()
        return await self.session.scalar(stmt)

    async def kind_of(self, pk: int) -> str | None:
        """The kind of any integration of the project, to tell "missing" from "not a sender"."""
        return await self.session.scalar(
            project_integrations(self.project_id, Integration.kind).where(Integration.id == pk)
        )

    async def same_domain_in_project(self, domain: str) -> list[Integration]:
        return list((await self.session.scalars(self.readable_statement().where(_domain_is(domain)))).all())

    async def same_domain_in_organization(self, domain: str) -> list[Integration]:
        stmt = organization_integrations(self.organization_id).where(
            Integration.kind == EMAIL_KIND, _domain_is(domain)
        )
        return list((await self.session.scalars(stmt)).all())

    async def domain_used_by_other_organization(self, domain: str) -> bool:
        stmt = (
            select(Integration.id)
            # The only foreign key between the two: SQLAlchemy derives the same ON clause without it.
            .join(Project, Project.id == Integration.project_id)  # pragma: no mutate
            .where(Project.organization_id != self.organization_id, Integration.kind == EMAIL_KIND)
            .where(_domain_is(domain))
            .limit(1)  # pragma: no mutate (a row or none is all that is asked)
        )
        return await self.session.scalar(stmt) is not None


async def domain_in_use(session: AsyncSession, domain: str, provider: str) -> bool:
    """Whether any sender anywhere still sends from `domain` through `provider`."""
    stmt = (
        select(Integration.id)
        .where(Integration.kind == EMAIL_KIND, _domain_is(domain))
        .where(Integration.config["provider"].as_string() == provider)
        .limit(1)  # pragma: no mutate (a row or none is all that is asked)
    )
    return await session.scalar(stmt) is not None
