"""All SQL of the OAuth domain: state records, and the row lock a token refresh runs under.

State records are looked up by their random token (the token is the capability, bound to a user and a
project inside the row). Integration rows are re-read here by (id, project_id) taken from a row the
caller already read through the integration domain's tenant-filtered repository; the background
refresher is the one system-wide reader (`refresh_candidates`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from patchbay.integration.repository import project_integrations
from patchbay.models import Integration, OAuthState


class OAuthStateRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def insert(self, state: OAuthState) -> None:
        self.session.add(state)
        await self.session.flush()

    async def get(self, token: str) -> OAuthState | None:
        return await self.session.scalar(select(OAuthState).where(OAuthState.token == token))

    async def consume(self, token: str, now: datetime) -> bool:
        """Single use: only the first caller flips used_at (one atomic UPDATE)."""
        not_expired = OAuthState.expires_at > now  # pragma: no mutate (`>=` differs at one instant only)
        result: Any = await self.session.execute(
            update(OAuthState)
            .where(OAuthState.token == token, OAuthState.used_at.is_(None), not_expired)
            .values(used_at=now)
        )
        return int(result.rowcount or 0) == 1

    async def purge_expired(self, before: datetime) -> int:
        result: Any = await self.session.execute(delete(OAuthState).where(OAuthState.expires_at < before))
        return int(result.rowcount or 0)


async def lock_integration(
    session: AsyncSession, pk: int, project_id: int, *, sqlite: bool
) -> Integration | None:
    """Take the row's write lock for the rest of the transaction, then read it fresh.

    PostgreSQL: SELECT ... FOR UPDATE. SQLite has no row locks: a no-op UPDATE as the first
    statement takes the database's write lock (like BEGIN IMMEDIATE), which serialises refreshes
    across processes sharing the file.
    """
    if sqlite:
        await session.execute(
            update(Integration)
            # SQLite's write lock is the whole database's and the statement changes no value: any
            # WHERE here locks the same (equivalent mutants). The read below is the scoped one.
            .where(Integration.id == pk, Integration.project_id == project_id)  # pragma: no mutate
            .values(errors=Integration.errors)
        )
        stmt = project_integrations(project_id).where(Integration.id == pk)
    else:
        stmt = project_integrations(project_id).where(Integration.id == pk).with_for_update()
    # populate_existing: a caller's session may already hold the row (stale). The one caller today
    # opens a fresh session for the lock, so the option changes nothing there (equivalent mutants).
    return await session.scalar(stmt.execution_options(populate_existing=True))  # pragma: no mutate


async def refresh_candidates(session: AsyncSession, kinds: list[str]) -> list[Row[Any]]:
    """System task (background refresher): every OAuth row, all projects, lightest columns first."""
    stmt = (
        select(
            Integration.id,
            Integration.project_id,
            Integration.kind,
            Integration.config,
            Integration.errors,
            Integration.sensitive_config,
        )
        .where(Integration.kind.in_(kinds))
        .order_by(Integration.id)
    )
    return list((await session.execute(stmt)).all())
