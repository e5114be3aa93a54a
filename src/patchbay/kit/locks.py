"""Single-flight in one process, plus a lock shared by every process through the database or Redis."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from sqlalchemy import Executable, text
from sqlalchemy.ext.asyncio import AsyncSession

T = TypeVar("T")


async def transaction_lock(session: AsyncSession, key: str, *, sqlite_write: Executable) -> None:
    """Holds, until the session's transaction ends, a lock that every other transaction taking the
    same key waits for, in any process: check-then-create sequences cannot interleave. PostgreSQL:
    a transaction-scoped advisory lock on the key. SQLite: `sqlite_write`, a write that changes
    nothing, takes the database write lock (one writer at a time, so every key is the same lock)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:key))"), {"key": key})
    else:
        await session.execute(sqlite_write)


class SingleFlight:
    """Concurrent callers with the same key share one execution and its result."""

    def __init__(self) -> None:
        self._inflight: dict[str, asyncio.Future[Any]] = {}

    async def run(self, key: str, func: Callable[[], Awaitable[T]]) -> T:
        existing = self._inflight.get(key)
        if existing is not None:
            return await asyncio.shield(existing)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            result = await func()
        except BaseException as exc:
            future.set_exception(exc)
            # Mark retrieved so an unawaited failure does not warn.
            future.exception()
            raise
        else:
            future.set_result(result)
            return result
        finally:
            self._inflight.pop(key, None)
