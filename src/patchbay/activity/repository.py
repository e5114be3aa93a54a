"""All SQL of the activity log. Reads start from `readable_statement`: one integration of one project
(the integration itself was found through the integration domain's tenant filter first)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from patchbay.kit.db import Database, Row
from patchbay.kit.pagination import PageParams, PageQuery
from patchbay.models import IntegrationActivity

_COLUMNS: tuple[Any, ...] = (
    IntegrationActivity.id,
    IntegrationActivity.action,
    IntegrationActivity.outcome,
    IntegrationActivity.method,
    IntegrationActivity.path,
    IntegrationActivity.status_code,
    IntegrationActivity.duration_ms,
    IntegrationActivity.api_key_id,
    IntegrationActivity.created_at,
)


# Built once at import (below), where a mutant is never active: held by tests/activity/test_repository.py.
# pragma: no mutate start
def readable_statement(project_id: Any, integration_id: Any, since: Any) -> Select[Any]:
    """One integration's rows inside the retention window."""
    return select(*_COLUMNS).where(
        IntegrationActivity.project_id == project_id,
        IntegrationActivity.integration_id == integration_id,
        IntegrationActivity.created_at >= since,
    )


# pragma: no mutate end
_PAGE = PageQuery(
    readable_statement(bindparam("project_id"), bindparam("integration_id"), bindparam("since")),
    order_by=(IntegrationActivity.created_at.desc(), IntegrationActivity.id.desc()),
)
_INSERT = insert(IntegrationActivity)


async def page(
    session: AsyncSession, *, project_id: int, integration_id: int, since: datetime, params: PageParams
) -> tuple[int, list[Row]]:
    return await _PAGE.fetch(
        session, params, project_id=project_id, integration_id=integration_id, since=since
    )


async def latest_per_integration(
    session: AsyncSession, *, project_id: int, integration_ids: list[int], since: datetime
) -> dict[int, datetime]:
    """The newest row's time of each listed integration of one project: one grouped query."""
    if not integration_ids:
        return {}
    statement = (
        select(IntegrationActivity.integration_id, func.max(IntegrationActivity.created_at))
        .where(
            IntegrationActivity.project_id == project_id,
            IntegrationActivity.integration_id.in_(integration_ids),
            IntegrationActivity.created_at >= since,  # pragma: no mutate (`>` differs at one instant)
        )
        .group_by(IntegrationActivity.integration_id)
    )
    return {int(pk): last for pk, last in (await session.execute(statement)).all()}


async def insert_row(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(_INSERT, values)


async def insert_rows(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    await session.execute(_INSERT, rows)


_COLUMN_NAMES = (
    "integration_id", "project_id", "action", "outcome", "method", "path", "status_code", "duration_ms",
    "api_key_id", "created_at",
)  # fmt: skip
# PostgreSQL: a whole batch in one statement, on its own (autocommit), whose commit does not wait for
# the WAL flush: set_config(..., true) holds until the end of the statement's implicit transaction,
# and the commit reads it. One round trip instead of BEGIN, SET LOCAL, INSERT and COMMIT.
_PG_INSERT_BATCH = (
    f"INSERT INTO integration_activity ({', '.join(_COLUMN_NAMES)}) SELECT r.* FROM unnest($1::int[], "
    "$2::int[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[], $8::float8[], $9::text[], "
    f"$10::timestamptz[]) AS r({', '.join(_COLUMN_NAMES)}) "
    "CROSS JOIN (SELECT set_config('synchronous_commit', 'off', true)) AS async_commit"
)


async def insert_batch(db: Database, rows: list[dict[str, Any]]) -> None:
    """Commit `rows` (activity_row values) together; on PostgreSQL without waiting for the disk flush
    (a crash may lose the last fraction of a second of them, never corrupt anything)."""
    if db.driver is None:
        async with db.transaction() as session:
            await insert_rows(session, rows)
        return
    # PostgreSQL only (held there by tests/activity/test_writer.py; the mutation run is SQLite-only).
    db.note_driver_statement(_PG_INSERT_BATCH)  # pragma: no mutate
    columns = [[row[name] for row in rows] for name in _COLUMN_NAMES]  # pragma: no mutate
    await db.driver.execute(_PG_INSERT_BATCH, columns)  # pragma: no mutate


async def delete_older_than(session: AsyncSession, cutoff: datetime) -> int:
    """System task across every tenant: the retention prune."""
    result = await session.execute(delete(IntegrationActivity).where(IntegrationActivity.created_at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)
