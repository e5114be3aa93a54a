"""Seeing, from outside, that a PostgreSQL connection is waiting for a lock: how race tests put two
transactions in a fixed order without sleeping for a guessed time."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import text

from patchbay.runtime import Runtime

WAITERS = text(
    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
)


async def lock_waiters(runtime: Runtime) -> set[int]:
    async with runtime.db.read_sessionmaker() as session:
        return {int(pid) for pid in (await session.scalars(WAITERS)).all()}


async def until_waiting(runtime: Runtime, pid: int | None = None, *, limit: float = 10.0) -> None:
    """Return once backend `pid` (or any backend of the database) waits for a lock; fail after
    `limit` seconds — then the statement never blocked, which is the bug a test is looking for."""
    deadline = time.monotonic() + limit
    while True:
        waiters = await lock_waiters(runtime)
        if (pid in waiters) if pid is not None else waiters:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"no lock wait seen for backend {pid} within {limit}s")
        await asyncio.sleep(0.01)  # polling what PostgreSQL reports, not guessing how long it takes
