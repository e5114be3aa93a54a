"""Group commit for hot callers of the activity log (the proxy): concurrent requests of one worker
share one INSERT and one commit instead of a transaction each.

`await write(runtime, row)` returns once the row is committed (the caller's semantics do not
change: when its request ends its row is in the database). While one batch is being written, rows
that arrive wait for the next one; so under load each commit carries every row that arrived during
the previous commit, and a lone request pays one transaction as before."""

from __future__ import annotations

import asyncio
from typing import Any

from patchbay.activity import repository
from patchbay.runtime import Runtime


class _Writer:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.loop = asyncio.get_running_loop()
        self.pending: list[dict[str, Any]] = []
        self.waiter: asyncio.Future[None] | None = None  # the batch still collecting rows
        self.running: asyncio.Task[None] | None = None

    async def write(self, row: dict[str, Any]) -> None:
        self.pending.append(row)
        if self.waiter is None:
            self.waiter = self.loop.create_future()
        waiter = self.waiter
        if self.running is None or self.running.done():
            self.running = asyncio.create_task(self._drain())
        await asyncio.shield(waiter)

    async def _drain(self) -> None:
        while self.pending:
            rows, self.pending = self.pending, []
            waiter, self.waiter = self.waiter, None
            try:
                await repository.insert_batch(self.runtime.db, rows)
            except Exception as exc:  # noqa: BLE001 - handed to every request of the batch
                if waiter is not None and not waiter.done():
                    waiter.set_exception(exc)
                    waiter.exception()  # retrieved: a batch nobody awaits any more is not "lost"
                continue
            if waiter is not None and not waiter.done():
                waiter.set_result(None)


_writers: dict[tuple[int, int], _Writer] = {}


async def write(runtime: Runtime, row: dict[str, Any]) -> None:
    """Commit `row` (the values `record_activity` would insert) with whatever else is waiting."""
    key = (id(runtime), id(asyncio.get_running_loop()))
    writer = _writers.get(key)
    if writer is None or writer.runtime is not runtime or writer.loop.is_closed():
        # Writers of closed loops (one per test) are dropped as new ones come.
        for stale in [k for k, w in _writers.items() if w.loop.is_closed()]:
            del _writers[stale]
        writer = _writers[key] = _Writer(runtime)
    await writer.write(row)
