"""All SQL of organization integrations. Every read starts from `readable_statement`, scoped to the
organization of the URL."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from patchbay.account.user_basic import CREATED_BY_COLUMNS
from patchbay.integration.repository import organization_integrations
from patchbay.kit.db import Row
from patchbay.kit.pagination import PageParams, fetch_page
from patchbay.models import Integration, OrganizationIntegration, Project, User

_COLUMNS = (
    OrganizationIntegration.id,
    OrganizationIntegration.organization_id,
    OrganizationIntegration.kind,
    OrganizationIntegration.integration_id,
    OrganizationIntegration.config,
    OrganizationIntegration.created_at,
    OrganizationIntegration.updated_at,
    OrganizationIntegration.created_by_id,
    *CREATED_BY_COLUMNS,
)


class OrgIntegrationRepository:
    def __init__(self, session: AsyncSession, organization_id: uuid.UUID) -> None:
        self.session = session
        self.organization_id = organization_id

    def readable_statement(self) -> Select[Any]:
        return (
            select(*_COLUMNS)
            # Without the ON clause SQLAlchemy infers this one from the only foreign key (equivalent).
            .outerjoin(User, User.id == OrganizationIntegration.created_by_id)  # pragma: no mutate
            .where(OrganizationIntegration.organization_id == self.organization_id)
        )

    async def page(self, *, params: PageParams) -> tuple[int, list[Row]]:
        return await fetch_page(
            self.session,
            self.readable_statement(),
            order_by=(OrganizationIntegration.created_at, OrganizationIntegration.id),
            params=params,
        )

    async def get(self, pk: uuid.UUID) -> Row | None:
        stmt = self.readable_statement().where(OrganizationIntegration.id == pk)
        return (await self.session.execute(stmt)).mappings().first()

    async def get_model(self, pk: uuid.UUID) -> OrganizationIntegration | None:
        return await self.session.scalar(
            select(OrganizationIntegration).where(
                OrganizationIntegration.id == pk,
                OrganizationIntegration.organization_id == self.organization_id,
            )
        )

    async def first_of_kind(self, kind: str) -> OrganizationIntegration | None:
        return await self.session.scalar(
            select(OrganizationIntegration)
            .where(
                OrganizationIntegration.organization_id == self.organization_id,
                OrganizationIntegration.kind == kind,
            )
            .order_by(OrganizationIntegration.created_at)
            .limit(1)  # pragma: no mutate (scalar() takes the first row whatever the limit)
        )

    async def projects(self, project_ids: list[int]) -> dict[int, Project]:
        """The projects among `project_ids` that belong to this organization."""
        if not project_ids:
            return {}
        rows = await self.session.scalars(
            select(Project).where(
                Project.organization_id == self.organization_id, Project.id.in_(project_ids)
            )
        )
        return {p.id: p for p in rows.all()}

    def _org_project_ids(self) -> Select[Any]:
        return select(Project.id).where(Project.organization_id == self.organization_id)

    async def project_integration(self, project_id: int, kind: str) -> Integration | None:
        return await self.session.scalar(
            organization_integrations(self.organization_id)
            .where(Integration.project_id == project_id, Integration.kind == kind)
            # A scan returns the lowest id first anyway: the order says so, it changes no answer a
            # test can force (equivalent), and scalar() takes the first row whatever the limit.
            .order_by(Integration.id)  # pragma: no mutate
            .limit(1)  # pragma: no mutate
        )

    async def add(self, obj: Any) -> Any:
        self.session.add(obj)
        await self.session.flush()
        return obj

    async def delete_with_project_integrations(self, row: OrganizationIntegration) -> None:
        """The org integration and every project integration of its kind in the organization."""
        await self.session.execute(
            delete(Integration).where(
                Integration.project_id.in_(self._org_project_ids()), Integration.kind == row.kind
            )
        )
        await self.session.execute(
            delete(OrganizationIntegration).where(
                OrganizationIntegration.id == row.id,
                OrganizationIntegration.organization_id == self.organization_id,
            )
        )
