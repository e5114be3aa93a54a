"""The one statement of checks: the integration row, locked for the write of its health. It starts
from the integration domain's tenant filter (`project_integrations`: the caller's project only)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from patchbay.integration.repository import project_integrations
from patchbay.models import Integration


async def lock_for_health(session: AsyncSession, project_id: int, pk: int) -> Integration | None:
    """The row, read fresh under its row lock (FOR UPDATE on PostgreSQL; SQLite serialises writers),
    so a refresh that finished meanwhile is not overwritten with what was read before the call."""
    stmt = project_integrations(project_id).where(Integration.id == pk).with_for_update()
    return await session.scalar(stmt.execution_options(populate_existing=True))
