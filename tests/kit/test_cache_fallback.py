"""kit.cache.FallbackCache: Redis while it answers, the worker's memory while it does not (a warning,
patchbay_redis_fallback_total), back on Redis once it answers, with the deletes it missed replayed.
Runs its own redis-server on a free port: stopping the shared one is not ours to do."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
from prometheus_client import REGISTRY

from patchbay.kit.cache import FallbackCache, RedisCache
from patchbay.kit.errors import Throttled
from patchbay.kit.ratelimit import RateLimiter, parse_rates

pytestmark = pytest.mark.skipif(shutil.which("redis-server") is None, reason="needs redis-server")


class OwnRedis:
    def __init__(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        assert self.proc is not None
        self.proc.terminate()
        self.proc.wait(timeout=10)


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    server = OwnRedis()
    server.start()
    yield server
    if server.proc is not None and server.proc.poll() is None:
        server.stop()


def fallbacks() -> float:
    return REGISTRY.get_sample_value("patchbay_redis_fallback_total") or 0.0


async def test_falls_back_to_memory_and_returns(
    own_redis: OwnRedis, caplog: pytest.LogCaptureFixture
) -> None:
    cache = FallbackCache(
        RedisCache(f"redis://127.0.0.1:{own_redis.port}/0", "t:", timeout=0.5), retry_interval=0.2
    )
    await cache.set("kept", {"v": 1}, 60)
    await cache.set("dropped", {"v": 2}, 60)
    assert await cache.get("kept") == {"v": 1}
    assert not cache.down

    own_redis.stop()
    before = fallbacks()
    caplog.set_level(logging.WARNING, "patchbay.cache")
    started = time.monotonic()
    assert await cache.get("kept") is None  # memory knows nothing yet
    await cache.set("memory", {"v": 3}, 60)
    assert await cache.get("memory") == {"v": 3}
    assert await cache.incr("counter", 60) == 1
    assert await cache.incr("counter", 60) == 2
    await cache.delete("dropped")  # missed by Redis: replayed when it returns
    assert time.monotonic() - started < 2  # bounded by the Redis timeout, never a hang
    assert cache.down
    assert fallbacks() - before >= 5
    assert [r.message for r in caplog.records].count(
        "Redis unreachable: caching and rate limiting in this worker's memory until it returns"
    ) == 1

    own_redis.start()
    await asyncio.sleep(0.3)  # past retry_interval
    assert await cache.get("memory") is None  # served by Redis again, which never saw it
    assert not cache.down
    assert any("Redis reachable again" in r.message for r in caplog.records)
    # The restarted Redis is empty here; on one that kept its data the missed delete still lands:
    await cache.redis.set("dropped", {"v": 2}, 60)
    cache.down, cache._missed_deletes = True, [("key", "dropped")]
    cache._next_try = 0.0
    assert await cache.get("dropped") is None
    await cache.close()


async def test_an_idle_worker_returns_to_redis_by_itself(own_redis: OwnRedis) -> None:
    """No operation after Redis returns: the background probe still brings the worker back."""
    cache = FallbackCache(
        RedisCache(f"redis://127.0.0.1:{own_redis.port}/0", "t:", timeout=0.5), retry_interval=0.2
    )
    own_redis.stop()
    await cache.get("anything")
    assert cache.down
    assert REGISTRY.get_sample_value("patchbay_redis_up", {"pid": str(os.getpid())}) == 0.0
    own_redis.start()
    for _ in range(100):  # up to 5 s: the probe runs every 0.2 s
        if not cache.down:
            break
        await asyncio.sleep(0.05)
    assert not cache.down
    assert REGISTRY.get_sample_value("patchbay_redis_up", {"pid": str(os.getpid())}) == 1.0
    await cache.close()


async def test_rate_limits_hold_in_memory_while_redis_is_away(own_redis: OwnRedis) -> None:
    cache = FallbackCache(
        RedisCache(f"redis://127.0.0.1:{own_redis.port}/0", "t:", timeout=0.5), retry_interval=30
    )
    limiter = RateLimiter(parse_rates("3/minute"), cache)
    own_redis.stop()
    for _ in range(3):
        await limiter.hit("key-1")
    with pytest.raises(Throttled):
        await limiter.hit("key-1")
    await cache.close()
