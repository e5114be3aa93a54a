"""All SQL of connect sessions. A session is found by the hash of its token (the token is the
capability; the row names its project); reads of the project's integrations go through the
integration domain's tenant-scoped repository."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from patchbay.models import ConnectSession


class ConnectSessionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def insert(self, row: ConnectSession) -> ConnectSession:
        self.session.add(row)
        await self.session.flush()
        return row

    async def by_token_hash(self, token_hash: str) -> ConnectSession | None:
        return await self.session.scalar(
            select(ConnectSession).where(ConnectSession.token_hash == token_hash)
        )

    async def by_id(self, pk: int) -> ConnectSession | None:
        return await self.session.scalar(select(ConnectSession).where(ConnectSession.id == pk))

    async def claim(self, pk: int, now: datetime) -> bool:
        """Single use: only the first connection made through the session spends it."""
        result: Any = await self.session.execute(
            update(ConnectSession)
            .where(
                ConnectSession.id == pk,
                ConnectSession.used_at.is_(None),
                # `>=` differs only at the one instant of expiry (equivalent mutant).
                ConnectSession.expires_at > now,  # pragma: no mutate
            )
            .values(used_at=now)
        )
        return int(result.rowcount or 0) == 1

    async def release(self, pk: int, claimed_at: datetime) -> None:
        """Give a claim back when the connection could not be stored after all."""
        await self.session.execute(
            update(ConnectSession)
            .where(ConnectSession.id == pk, ConnectSession.used_at == claimed_at)
            .values(used_at=None)
        )
