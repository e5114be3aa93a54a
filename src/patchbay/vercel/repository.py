"""All SQL of the Vercel domain: installations found by their Vercel id (the caller is Vercel, bound to
that installation by its signed token) and the single-use link sessions."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from patchbay.integration.repository import project_integrations
from patchbay.kit.locks import transaction_lock
from patchbay.models import Integration, LinkSession, OrganizationIntegration, Project
from patchbay.org_integration.repository import OrgIntegrationRepository
from patchbay.providers.vercel import KIND as VERCEL

LINK_KIND = "vercel"


class VercelRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def serialize_on(self, key: str) -> None:
        """Holds, until the transaction ends, a lock that every other transaction calling this with the
        same key waits for: check-then-create sequences cannot interleave (PostgreSQL advisory lock;
        on SQLite, taking the database write lock does the same)."""
        await transaction_lock(
            self.session,
            key,
            sqlite_write=update(LinkSession).where(LinkSession.token == "").values(kind=LinkSession.kind),
        )

    def installations_statement(self, installation_id: str) -> Select[Any]:
        return select(OrganizationIntegration).where(
            OrganizationIntegration.kind == VERCEL, OrganizationIntegration.integration_id == installation_id
        )

    async def installation(self, installation_id: str) -> OrganizationIntegration | None:
        stmt = (
            self.installations_statement(installation_id)
            .order_by(OrganizationIntegration.created_at)
            .limit(1)
        )
        return await self.session.scalar(stmt)

    async def installations(self, installation_id: str) -> list[OrganizationIntegration]:
        return list((await self.session.scalars(self.installations_statement(installation_id))).all())

    async def remove_installation(self, row: OrganizationIntegration) -> None:
        await OrgIntegrationRepository(self.session, row.organization_id).delete_with_project_integrations(
            row
        )

    async def add(self, obj: Any) -> Any:
        self.session.add(obj)
        await self.session.flush()
        return obj

    # --- linking an existing account ----------------------------------------------------------------

    async def org_vercel_integration(self, organization_id: uuid.UUID) -> OrganizationIntegration | None:
        return await OrgIntegrationRepository(self.session, organization_id).first_of_kind(VERCEL)

    async def project_in_organization(self, organization_id: uuid.UUID, project_id: int) -> Project | None:
        return await self.session.scalar(
            select(Project).where(Project.id == project_id, Project.organization_id == organization_id)
        )

    async def project_has_vercel(self, project_id: int) -> bool:
        found = await self.session.scalar(
            project_integrations(project_id, Integration.id).where(Integration.kind == VERCEL).limit(1)
        )
        return found is not None

    async def create_link_session(self, token_hash: str, payload: str, now: datetime, ttl: timedelta) -> None:
        # Old rows are useless once expired: drop them as new ones arrive.
        await self.session.execute(
            delete(LinkSession).where(LinkSession.expires_at < now - timedelta(days=1))
        )
        self.session.add(
            LinkSession(
                token=token_hash, kind=LINK_KIND, payload=payload, created_at=now, expires_at=now + ttl
            )
        )
        await self.session.flush()

    async def link_session(self, token_hash: str) -> LinkSession | None:
        return await self.session.scalar(
            select(LinkSession).where(LinkSession.token == token_hash, LinkSession.kind == LINK_KIND)
        )

    async def consume_link_session(self, token_hash: str, now: datetime) -> bool:
        """Marks the session used; False when it was already used or has expired (atomic)."""
        result = await self.session.execute(
            update(LinkSession)
            .where(
                LinkSession.token == token_hash,
                LinkSession.kind == LINK_KIND,
                LinkSession.used_at.is_(None),
                LinkSession.expires_at > now,
            )
            .values(used_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0) == 1)
