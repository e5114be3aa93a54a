"""A small JSON cache: in-process by default, Redis when PATCHBAY_REDIS_URL is set."""

from __future__ import annotations

import time
from typing import Any, Protocol

import orjson


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
    def __init__(self, url: str, prefix: str = "patchbay:") -> None:
        from redis.asyncio import Redis

        self.redis = Redis.from_url(url)
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


def make_cache(redis_url: str | None, prefix: str = "patchbay:") -> MemoryCache | RedisCache:
    return RedisCache(redis_url, prefix) if redis_url else MemoryCache()
