"""Plain asyncpg connections for single statements that need no transaction (the hot reads)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

import asyncpg
import orjson


async def _keep_session_state(_connection: asyncpg.Connection) -> None:
    """Pool reset that sends nothing: asyncpg's default (RESET ALL, UNLISTEN *, CLOSE ALL, advisory
    unlock) is one more round trip per statement, and nothing run on this pool changes session
    state. asyncpg still rolls back a transaction left open before it calls this."""


class DriverPool:
    """An asyncpg pool, opened on first use in the running event loop and sized like the engine's.

    Only FixedQuery uses it, for statements that run on their own: every statement acquires a
    connection and gives it back at once, so a request never holds one while it does other work.
    """

    def __init__(
        self,
        dsn: str,
        *,
        size: int,
        server_settings: dict[str, str],
        json_loads: Callable[[str], Any],
        timeouts: tuple[float, float, float] = (2.0, 5.0, 30.0),
    ) -> None:
        self.dsn = dsn
        self._size = size
        self._server_settings = server_settings
        self._json_loads = json_loads
        # (connect, acquire, statement) seconds: an outage answers 503 instead of hanging.
        self._connect_timeout, self._acquire_timeout, self._statement_timeout = timeouts
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()

    async def _init_connection(self, connection: asyncpg.Connection) -> None:
        # JSON columns decode as through the engine (patchbay.kit.db._json_loads).
        for type_name in ("json", "jsonb"):
            await connection.set_type_codec(
                type_name,
                encoder=lambda value: orjson.dumps(value).decode(),
                decoder=self._json_loads,
                schema="pg_catalog",
                format="text",
            )

    async def _open(self) -> asyncpg.Pool:
        async with self._opening:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    self.dsn,
                    min_size=1,
                    max_size=self._size,
                    init=self._init_connection,
                    reset=_keep_session_state,
                    # Idle connections stay open, as in the engine's pool: no timer re-armed per release.
                    max_inactive_connection_lifetime=0,
                    server_settings=self._server_settings,
                    timeout=self._connect_timeout,
                    command_timeout=self._statement_timeout,
                )
            return self._pool

    async def fetch(self, sql: str, args: Sequence[Any]) -> list[asyncpg.Record]:
        pool = self._pool or await self._open()
        # A connection PostgreSQL dropped (a restart) is noticed here and reopened by the pool on its
        # next acquire: nothing to invalidate by hand.
        async with pool.acquire(timeout=self._acquire_timeout) as connection:
            rows: list[asyncpg.Record] = await connection.fetch(sql, *args)
        return rows

    async def execute(self, sql: str, args: Sequence[Any]) -> None:
        """One statement that returns no rows, committed on its own (autocommit)."""
        pool = self._pool or await self._open()
        async with pool.acquire(timeout=self._acquire_timeout) as connection:
            await connection.execute(sql, *args)

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()
