"""Recording and reading the activity log.

Other domains record through `record_activity` (proxy calls, credential reads, refreshes, checks),
in the session they already hold: the row commits with their work. What is recorded is decided
here, once: the method, the path without its query string, the status, the duration and the key's
id, never a body, a header or a token."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from patchbay.activity import repository, writer
from patchbay.integration.service import get_integration_model
from patchbay.kit.pagination import PageParams
from patchbay.kit.timefmt import iso
from patchbay.runtime import Runtime
from patchbay.tenancy.context import ProjectContext

log = logging.getLogger("patchbay.activity")

ACTIONS = frozenset({"proxy", "credentials", "refresh", "check"})
PRUNE_INTERVAL = 3600.0
_MAX_PATH = 2048


def _path_without_query(path: str | None) -> str | None:
    if path is None:
        return None
    # A query string (or a fragment) may carry secrets; only the path is kept, and not endlessly.
    return path.split("?", 1)[0].split("#", 1)[0][:_MAX_PATH]


def activity_row(
    *,
    integration_id: int,
    team_id: int,
    action: str,
    outcome: str,
    status_code: int | None = None,
    duration_ms: float | None = None,
    method: str | None = None,
    path: str | None = None,
    api_key_id: str | None = None,
) -> dict[str, Any]:
    """The row as it is stored: only these fields, the path without its query string."""
    if action not in ACTIONS:
        raise ValueError(f"unknown activity action {action!r}")
    return {
        "integration_id": integration_id,
        "project_id": team_id,
        "action": action,
        "outcome": outcome[:64],
        "method": method.upper() if method else None,
        "path": _path_without_query(path),
        "status_code": status_code,
        "duration_ms": round(duration_ms, 3) if duration_ms is not None else None,
        "api_key_id": api_key_id,
        "created_at": datetime.now(UTC),
    }


async def record_activity(
    session: AsyncSession,
    *,
    integration_id: int,
    team_id: int,
    action: str,
    outcome: str,
    status_code: int | None = None,
    duration_ms: float | None = None,
    method: str | None = None,
    path: str | None = None,
    api_key_id: str | None = None,
) -> None:
    """Add one row to the integration's log in `session` (committed with the caller's transaction;
    the caller commits). `team_id` is the project's id (PostHog's team)."""
    row = activity_row(
        integration_id=integration_id,
        team_id=team_id,
        action=action,
        outcome=outcome,
        status_code=status_code,
        duration_ms=duration_ms,
        method=method,
        path=path,
        api_key_id=api_key_id,
    )
    await repository.insert_row(session, row)


async def record_activity_grouped(runtime: Runtime, **fields: Any) -> None:
    """`record_activity` for a hot caller (the proxy), outside its session: committed together with
    the rows other requests of this worker record meanwhile (activity/writer.py), without waiting
    for the disk flush on PostgreSQL (a crash may lose the last fraction of a second of rows)."""
    await writer.write(runtime, activity_row(**fields))


def retention_cutoff(runtime: Runtime, now: datetime | None = None) -> datetime:
    return (now or datetime.now(UTC)) - timedelta(days=runtime.settings.activity_retention_days)


def _serialize(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "action": row["action"],
        "outcome": row["outcome"],
        "method": row["method"],
        "path": row["path"],
        "status_code": row["status_code"],
        "duration_ms": row["duration_ms"],
        "api_key_id": row["api_key_id"],
        "created_at": iso(row["created_at"]),
    }


async def list_activity(ctx: ProjectContext, pk: int, params: PageParams) -> tuple[int, list[dict[str, Any]]]:
    """The integration's log, newest first (404 for an integration the caller cannot see)."""
    integration = await get_integration_model(ctx, pk)
    count, rows = await repository.page(
        ctx.session,
        project_id=ctx.project.id,
        integration_id=integration.id,
        since=retention_cutoff(ctx.runtime),
        params=params,
    )
    return count, [_serialize(row) for row in rows]


async def last_activity(ctx: ProjectContext, integration_ids: list[int]) -> dict[int, datetime]:
    """When each of these integrations of the caller's project was last used (inside the retention
    window), for a list page: one grouped query, however many integrations. The ids come from the
    integration domain's tenant-filtered list; the project filter keeps any other id out anyway."""
    return await repository.latest_per_integration(
        ctx.session,
        project_id=ctx.project.id,
        integration_ids=integration_ids,
        since=retention_cutoff(ctx.runtime),
    )


async def prune_expired(runtime: Runtime, now: datetime | None = None) -> int:
    """Delete every row past the retention window (all tenants: a system task). Returns the count."""
    async with runtime.db.transaction() as session:
        return await repository.delete_older_than(session, retention_cutoff(runtime, now))


async def run_pruner(runtime: Runtime, stop: asyncio.Event, *, interval: float = PRUNE_INTERVAL) -> None:
    """What every worker runs: one prune at start and then every `interval` seconds. Workers racing
    on the same DELETE is harmless; one failed pass never stops the loop."""
    while not stop.is_set():
        try:
            await prune_expired(runtime)
        except Exception:  # noqa: BLE001 - a database hiccup must not end the loop
            log.exception("activity prune failed")
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval)
        except TimeoutError:
            pass
