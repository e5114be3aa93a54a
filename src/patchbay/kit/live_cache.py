"""Rows read from PostgreSQL and kept in process memory for as long as PostgreSQL says their table did
not change: triggers send NOTIFY on a channel when a change commits, from whichever process makes it,
and every worker listens (one connection for all its caches: `keep_live`).

Correctness rests on the same three rules as the caller cache (auth/cache.py):
- a cache serves only while its LISTEN connection is up (`live`); lost, it is emptied and bypassed;
- a row read before a change can never be stored after it: each store names the generation its read
  started in, and every change starts a new generation;
- entries also expire after `ttl` seconds, a bound that holds even if a notification went missing.
A miss is never cached: "not found" always comes from the database.

A key is the whole of the statement's parameters (tenant and viewer included), so a cached answer is
exactly what that statement would have returned: the tenancy stays in the statement.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Hashable, Mapping
from typing import Any, Generic, Protocol, TypeVar

from patchbay.kit.db import Row
from patchbay.kit.notifications import listen

K = TypeVar("K", bound=Hashable)
E = TypeVar("E")


class Invalidated(Protocol):
    """What `keep_live` drives: emptied at every notification, served only while listening."""

    def clear(self) -> None: ...

    def set_live(self, live: bool) -> None: ...


class Generations(Generic[E]):
    """What every cache kept on notifications shares: it serves only while `live`, and each change
    (`clear`) empties it and starts a new generation, so that a read which began before the change
    is not stored after it (`put` takes the generation its read started in)."""

    def __init__(self, entries: dict[Any, E]) -> None:
        self.live = False  # pragma: no mutate (None: as false)
        self.generation = 0  # pragma: no mutate (only compared for equality)
        self._entries = entries

    def clear(self) -> None:
        self.generation += 1  # pragma: no mutate (any change will do)
        self._entries.clear()

    def set_live(self, live: bool) -> None:
        self.clear()
        self.live = live


class LiveCache(Generations[tuple[float, Row]], Generic[K]):
    def __init__(
        self,
        *,
        ttl: float = 30.0,  # pragma: no mutate (tuning, as the bound below)
        max_entries: int = 10_000,  # pragma: no mutate
    ) -> None:
        self._entries: dict[K, tuple[float, Row]] = {}
        super().__init__(self._entries)
        self.ttl = ttl
        self.max_entries = max_entries

    def get(self, key: K) -> Row | None:
        if not self.live:
            return None
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, row = entry
        if time.monotonic() >= expires:  # pragma: no mutate (> differs at one instant only)
            del self._entries[key]
            return None
        return row

    def put(self, key: K, row: Row, generation: int) -> None:
        """Keep `row`, read by a lookup that started in `generation`."""
        if not self.live or generation != self.generation:
            return
        if key not in self._entries and len(self._entries) >= self.max_entries:
            self._entries.pop(next(iter(self._entries)))  # the oldest
        self._entries[key] = (time.monotonic() + self.ttl, dict(row))

    def __len__(self) -> int:
        return len(self._entries)


async def keep_live(caches: Mapping[str, Invalidated], dsn: str, stop: asyncio.Event) -> None:
    """Listen on each cache's channel (the key of `caches`) until `stop`: a notification empties that
    cache; all of them serve only while this runs and is connected."""

    def clearing(cache: Invalidated) -> Callable[[str], None]:
        return lambda _payload: cache.clear()

    def set_live(live: bool) -> None:
        for cache in caches.values():
            cache.set_live(live)

    await listen(
        dsn,
        {channel: clearing(cache) for channel, cache in caches.items()},
        on_listening=lambda: set_live(True),
        on_lost=lambda: set_live(False),
        stop=stop,
    )
