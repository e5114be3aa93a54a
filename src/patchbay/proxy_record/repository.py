"""All SQL of proxy records. Every read starts from `readable_statement`, scoped to the organization."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from patchbay.account.user_basic import CREATED_BY_COLUMNS
from patchbay.kit.db import Row
from patchbay.kit.pagination import PageParams, fetch_page
from patchbay.models import ProxyRecord, User

_COLUMNS: tuple[Any, ...] = (
    ProxyRecord.id,
    ProxyRecord.domain,
    ProxyRecord.target_cname,
    ProxyRecord.status,
    ProxyRecord.message,
    ProxyRecord.created_at,
    ProxyRecord.updated_at,
    ProxyRecord.created_by_id,
    *CREATED_BY_COLUMNS,
)


class ProxyRecordRepository:
    def __init__(self, session: AsyncSession, organization_id: uuid.UUID) -> None:
        self.session = session
        self.organization_id = organization_id

    def readable_statement(self) -> Select[Any]:
        return (
            select(*_COLUMNS)
            # Without the ON clause SQLAlchemy infers this one from the only foreign key (equivalent).
            .outerjoin(User, User.id == ProxyRecord.created_by_id)  # pragma: no mutate
            .where(ProxyRecord.organization_id == self.organization_id)
        )

    async def page(self, *, params: PageParams) -> tuple[int, list[Row]]:
        return await fetch_page(
            self.session,
            self.readable_statement(),
            order_by=(ProxyRecord.created_at.desc(), ProxyRecord.id),
            params=params,
        )

    async def get(self, pk: uuid.UUID) -> Row | None:
        stmt = self.readable_statement().where(ProxyRecord.id == pk)
        return (await self.session.execute(stmt)).mappings().first()

    async def get_model(self, pk: uuid.UUID) -> ProxyRecord | None:
        return await self.session.scalar(
            select(ProxyRecord).where(
                ProxyRecord.id == pk, ProxyRecord.organization_id == self.organization_id
            )
        )

    async def domain_taken(self, domain: str) -> bool:
        """Domains are unique across every organization (one proxy answers for one domain)."""
        return (
            await self.session.scalar(select(ProxyRecord.id).where(ProxyRecord.domain == domain)) is not None
        )

    async def insert(self, **values: Any) -> ProxyRecord:
        row = ProxyRecord(organization_id=self.organization_id, **values)
        self.session.add(row)
        await self.session.flush()
        return row

    async def delete(self, pk: uuid.UUID) -> None:
        await self.session.execute(
            delete(ProxyRecord).where(
                ProxyRecord.id == pk, ProxyRecord.organization_id == self.organization_id
            )
        )
