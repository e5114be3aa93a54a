"""All SQL of project integrations, and the tenant filter every read of the `integrations` table
starts from: `project_integrations(project_id)` (one project) or `organization_integrations(org)`
(every project of one organization). Other domains (email senders, OAuth refresh, organization
integrations, Vercel) build their statements on these; only system tasks that span all tenants
(the background refresher, the shared-SES-identity check) read wider, and say so."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from patchbay.account.user_basic import CREATED_BY_COLUMNS
from patchbay.kit.db import FixedQuery, Row
from patchbay.kit.pagination import PageParams, PageQuery
from patchbay.models import Integration, Project, User

_COLUMNS = (
    Integration.id,
    Integration.project_id,
    Integration.kind,
    Integration.integration_id,
    Integration.config,
    Integration.errors,
    Integration.created_at,
    Integration.created_by_id,
    Integration.health_status,
    Integration.health_detail,
    Integration.health_checked_at,
    *CREATED_BY_COLUMNS,
)


def project_integrations(project_id: Any, *columns: Any) -> Select[Any]:
    """Integrations of one project (whole rows unless `columns` are named)."""
    return select(*(columns or (Integration,))).where(Integration.project_id == project_id)


def organization_integrations(organization_id: Any, *columns: Any) -> Select[Any]:
    """Integrations of every project of one organization (whole rows unless `columns` are named)."""
    return (
        select(*(columns or (Integration,)))
        .join(Project, Project.id == Integration.project_id)
        .where(Project.organization_id == organization_id)
    )


def _readable(project_id: Any) -> Select[Any]:
    """Integrations of one project with the creator joined: what the API serializes."""
    return project_integrations(project_id, *_COLUMNS).outerjoin(User, User.id == Integration.created_by_id)


# The hot statements are built once with bound parameters: building and cache-keying a 14-column
# statement on every request costs more CPU than executing it.
_GET = FixedQuery(_readable(bindparam("project_id")).where(Integration.id == bindparam("pk")))
_ORDER = (Integration.created_at, Integration.id)
_PAGE = PageQuery(_readable(bindparam("project_id")), order_by=_ORDER)
_PAGE_OF_KIND = PageQuery(
    _readable(bindparam("project_id")).where(Integration.kind == bindparam("kind")), order_by=_ORDER
)


class IntegrationRepository:
    def __init__(self, session: AsyncSession, project_id: int) -> None:
        self.session = session
        self.project_id = project_id

    def readable_statement(self) -> Select[Any]:
        """Whole rows of the project's integrations."""
        return project_integrations(self.project_id)

    async def page(self, *, kind: str | None, params: PageParams) -> tuple[int, list[Row]]:
        if kind is None:
            return await _PAGE.fetch(self.session, params, project_id=self.project_id)
        return await _PAGE_OF_KIND.fetch(self.session, params, project_id=self.project_id, kind=kind)

    async def get(self, pk: int) -> Row | None:
        return await _GET.first(self.session, {"project_id": self.project_id, "pk": pk})

    async def get_model(self, pk: int, *, for_update: bool = False) -> Integration | None:
        stmt = self.readable_statement().where(Integration.id == pk)
        if for_update:
            stmt = stmt.with_for_update()
        return await self.session.scalar(stmt)

    async def find(self, kind: str, integration_id: str | None) -> Integration | None:
        if integration_id is None:
            return None  # NULL ids never collide, as in PostgreSQL's unique index
        return await self.session.scalar(
            self.readable_statement().where(
                Integration.kind == kind, Integration.integration_id == integration_id
            )
        )

    async def insert(self, **values: Any) -> Integration:
        row = Integration(project_id=self.project_id, **values)
        self.session.add(row)
        await self.session.flush()
        return row

    async def update_fields(self, pk: int, **values: Any) -> None:
        await self.session.execute(
            update(Integration)
            .where(Integration.id == pk, Integration.project_id == self.project_id)
            .values(**values)
        )

    async def delete(self, pk: int) -> None:
        await self.session.execute(
            delete(Integration).where(Integration.id == pk, Integration.project_id == self.project_id)
        )
