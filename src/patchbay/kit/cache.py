"""A small JSON cache: in-process by default, Redis when PATCHBAY_REDIS_URL is set.

With Redis, `FallbackCache` keeps serving when Redis cannot be reached: each worker falls back to its
own memory (rate limits then count per worker, caches fill per worker), logs a warning, counts every
operation so served (patchbay_redis_fallback_total), and returns to Redis once it answers again: on
the next operation, or by a background probe when the worker sees no traffic meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

import orjson
from prometheus_client import Counter, Gauge

log = logging.getLogger("patchbay.cache")

T = TypeVar("T")

FALLBACK_TOTAL = Counter(
    "patchbay_redis_fallback_total",
    "Cache and rate-limit operations served from a worker's memory because Redis could not be reached",
)
MAX_MISSED_DELETES = 10_000  # beyond this, recovery drops every key under the prefix instead
REDIS_UP = Gauge(
    "patchbay_redis_up", "1 while this worker reaches Redis, 0 while it serves from memory", ["pid"]
)


class Cache(Protocol):
    async def get(self, key: str) -> Any | None: ...
    async def set(self, key: str, value: Any, ttl: float) -> None: ...
    async def delete(self, *keys: str) -> None: ...
    async def delete_prefix(self, prefix: str) -> None: ...
    async def incr(self, key: str, ttl: float) -> int: ...
    async def close(self) -> None: ...


class MemoryCache:
    def __init__(self) -> None:
        self._data: dict[str, tuple[float, Any]] = {}

    def _live(self, key: str) -> tuple[float, Any] | None:
        item = self._data.get(key)
        if item is None:
            return None
        if item[0] < time.monotonic():
            self._data.pop(key, None)
            return None
        return item

    async def get(self, key: str) -> Any | None:
        item = self._live(key)
        return None if item is None else orjson.loads(item[1])

    async def set(self, key: str, value: Any, ttl: float) -> None:
        self._data[key] = (time.monotonic() + ttl, orjson.dumps(value))

    async def delete(self, *keys: str) -> None:
        for key in keys:
            self._data.pop(key, None)

    async def delete_prefix(self, prefix: str) -> None:
        for key in [k for k in self._data if k.startswith(prefix)]:
            self._data.pop(key, None)

    async def incr(self, key: str, ttl: float) -> int:
        item = self._live(key)
        value = (orjson.loads(item[1]) if item else 0) + 1
        expires = item[0] if item else time.monotonic() + ttl
        self._data[key] = (expires, orjson.dumps(value))
        return int(value)

    async def ttl(self, key: str) -> float:
        item = self._live(key)
        return 0.0 if item is None else max(0.0, item[0] - time.monotonic())

    async def close(self) -> None:
        self._data.clear()


class RedisCache:
    def __init__(self, url: str, prefix: str = "patchbay:", *, timeout: float = 0.5) -> None:
        from redis.asyncio import Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        # Bounded and never retried here: an unreachable Redis must fail fast so FallbackCache can
        # answer from memory (redis-py's default retries with back-off would add seconds per call).
        self.redis = Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, retry=Retry(NoBackoff(), 0)
        )
        self.prefix = prefix

    async def get(self, key: str) -> Any | None:
        raw = await self.redis.get(self.prefix + key)
        return None if raw is None else orjson.loads(raw)

    async def set(self, key: str, value: Any, ttl: float) -> None:
        await self.redis.set(self.prefix + key, orjson.dumps(value), px=max(1, int(ttl * 1000)))

    async def delete(self, *keys: str) -> None:
        if keys:
            await self.redis.delete(*[self.prefix + k for k in keys])

    async def delete_prefix(self, prefix: str) -> None:
        async for key in self.redis.scan_iter(match=self.prefix + prefix + "*", count=500):
            await self.redis.delete(key)

    async def incr(self, key: str, ttl: float) -> int:
        full = self.prefix + key
        pipe = self.redis.pipeline()
        pipe.incr(full)
        pipe.pexpire(full, max(1, int(ttl * 1000)), nx=True)
        value, _ = await pipe.execute()
        return int(value)

    async def ttl(self, key: str) -> float:
        ms = await self.redis.pttl(self.prefix + key)
        return max(0.0, ms / 1000.0)

    async def close(self) -> None:
        await self.redis.aclose()


def _redis_errors() -> tuple[type[BaseException], ...]:
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return (RedisConnectionError, RedisTimeoutError, OSError, asyncio.TimeoutError)


class FallbackCache:
    """Redis while it answers; this worker's memory while it does not (see the module docstring).

    While fallen back, one call per `retry_interval` tries Redis again, and a background task probes
    it at the same pace so an idle worker returns too (and its patchbay_redis_up says so). Deletes
    made meanwhile are replayed on Redis before it serves again, so nothing dropped during the outage
    comes back stale.
    """

    def __init__(self, redis: RedisCache, *, retry_interval: float = 1.0) -> None:
        self.redis = redis
        self.memory = MemoryCache()
        self.retry_interval = retry_interval
        self.down = False
        self._next_try = 0.0
        self._missed_deletes: list[tuple[str, ...]] = []
        self._missed_too_many = False  # then everything under our prefix is dropped on recovery
        self._errors = _redis_errors()
        self._recovering = asyncio.Lock()
        self._probe: asyncio.Task[None] | None = None
        self._up_gauge = REDIS_UP.labels(str(os.getpid()))
        self._up_gauge.set(1)

    async def _run(self, on_redis: Callable[[], Awaitable[T]], in_memory: Callable[[], Awaitable[T]]) -> T:
        if self.down:
            if time.monotonic() < self._next_try:
                FALLBACK_TOTAL.inc()
                return await in_memory()
            self._next_try = time.monotonic() + self.retry_interval  # one probe per interval
            if not await self._recover():
                FALLBACK_TOTAL.inc()
                return await in_memory()
        try:
            return await on_redis()
        except self._errors as exc:
            self._fall_back(exc)
            FALLBACK_TOTAL.inc()
            return await in_memory()

    def _fall_back(self, exc: BaseException) -> None:
        if not self.down:
            log.warning(
                "Redis unreachable: caching and rate limiting in this worker's memory until it returns",
                extra={"error": type(exc).__name__},
            )
            self.down = True
            self._up_gauge.set(0)
        self._next_try = time.monotonic() + self.retry_interval
        if self._probe is None or self._probe.done():
            try:
                self._probe = asyncio.get_running_loop().create_task(self._probe_until_up())
            except RuntimeError:  # no loop (a synchronous caller): the next operation probes
                self._probe = None

    async def _probe_until_up(self) -> None:
        while self.down:
            await asyncio.sleep(max(0.05, self._next_try - time.monotonic()))
            if self.down and time.monotonic() >= self._next_try:
                self._next_try = time.monotonic() + self.retry_interval
                await self._recover()

    async def _recover(self) -> bool:
        """Redis answers again: replay the deletes it missed, then serve from it."""
        async with self._recovering:  # the probe and a request may both try: one at a time
            return not self.down or await self._recover_now()

    async def _recover_now(self) -> bool:
        try:
            # Connections pooled before the outage are dead: start afresh, or each of them would fail
            # once more and send this worker back to memory for another interval.
            await self.redis.redis.connection_pool.disconnect()
            await self.redis.redis.ping()
            if self._missed_too_many:
                self._missed_deletes = [("prefix", "")]
            for kind, *values in self._missed_deletes:
                if kind == "prefix":
                    await self.redis.delete_prefix(values[0])
                else:
                    await self.redis.delete(*values)
        except self._errors:
            return False
        self._missed_deletes.clear()
        self._missed_too_many = False
        await self.memory.close()
        self.down = False
        self._up_gauge.set(1)
        log.warning("Redis reachable again: caching and rate limiting back on Redis")
        return True

    async def get(self, key: str) -> Any | None:
        return await self._run(lambda: self.redis.get(key), lambda: self.memory.get(key))

    async def set(self, key: str, value: Any, ttl: float) -> None:
        await self._run(lambda: self.redis.set(key, value, ttl), lambda: self.memory.set(key, value, ttl))

    def _miss(self, delete: tuple[str, ...]) -> None:
        if len(self._missed_deletes) >= MAX_MISSED_DELETES:
            self._missed_too_many = True
        else:
            self._missed_deletes.append(delete)

    async def delete(self, *keys: str) -> None:
        async def in_memory() -> None:
            self._miss(("key", *keys))
            await self.memory.delete(*keys)

        await self._run(lambda: self.redis.delete(*keys), in_memory)

    async def delete_prefix(self, prefix: str) -> None:
        async def in_memory() -> None:
            self._miss(("prefix", prefix))
            await self.memory.delete_prefix(prefix)

        await self._run(lambda: self.redis.delete_prefix(prefix), in_memory)

    async def incr(self, key: str, ttl: float) -> int:
        return await self._run(lambda: self.redis.incr(key, ttl), lambda: self.memory.incr(key, ttl))

    async def ttl(self, key: str) -> float:
        return await self._run(lambda: self.redis.ttl(key), lambda: self.memory.ttl(key))

    async def close(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
            self._probe = None
        await self.memory.close()
        await self.redis.close()


def make_cache(
    redis_url: str | None, prefix: str = "patchbay:", *, timeout: float = 0.5, retry_interval: float = 1.0
) -> MemoryCache | FallbackCache:
    if not redis_url:
        return MemoryCache()
    return FallbackCache(RedisCache(redis_url, prefix, timeout=timeout), retry_interval=retry_interval)
