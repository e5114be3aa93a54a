"""LiveCache's rules on their own (served only while live, no store across a change, expiry, a
bound), and keep_live against PostgreSQL: one connection for several caches, each emptied by its own
channel only, all bypassed while the connection is lost."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import pytest

from patchbay.kit.db import Database
from patchbay.kit.live_cache import LiveCache, keep_live

ROW = {"id": 1, "config": {"a": 1}}


def live_cache(**kwargs: float) -> LiveCache[str]:
    cache: LiveCache[str] = LiveCache(**kwargs)  # type: ignore[arg-type]
    cache.set_live(True)
    return cache


def test_serves_nothing_and_keeps_nothing_unless_live() -> None:
    cache: LiveCache[str] = LiveCache()
    cache.put("k", ROW, cache.generation)
    assert cache.get("k") is None and len(cache) == 0
    cache.set_live(True)
    cache.put("k", ROW, cache.generation)
    assert cache.get("k") == ROW
    cache.set_live(False)
    assert cache.get("k") is None and len(cache) == 0


def test_a_read_that_started_before_a_change_is_not_stored() -> None:
    cache = live_cache()
    started = cache.generation
    cache.clear()  # a change committed while the read was under way
    cache.put("k", ROW, started)
    assert cache.get("k") is None
    cache.put("k", ROW, cache.generation)
    assert cache.get("k") == ROW


def test_a_stored_row_is_a_copy() -> None:
    cache = live_cache()
    row = dict(ROW)
    cache.put("k", row, cache.generation)
    row["id"] = 2
    assert cache.get("k") == ROW


def test_entries_expire() -> None:
    cache = live_cache(ttl=0.05)
    cache.put("k", ROW, cache.generation)
    assert cache.get("k") == ROW
    time.sleep(0.06)
    assert cache.get("k") is None and len(cache) == 0


def test_size_is_bounded_oldest_first() -> None:
    cache = live_cache(max_entries=2)
    for key in ("a", "b", "c"):
        cache.put(key, ROW, cache.generation)
    assert len(cache) == 2 and cache.get("a") is None and cache.get("c") == ROW
    cache.put("b", {"id": 3}, cache.generation)  # an update does not evict
    assert len(cache) == 2 and cache.get("b") == {"id": 3} and cache.get("c") == ROW


async def test_keep_live_listens_for_every_cache_on_one_connection(backend: str, database_url: str) -> None:
    if backend != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    db = Database(database_url)
    assert db.driver is not None
    first: LiveCache[str] = LiveCache()
    second: LiveCache[str] = LiveCache()
    stop = asyncio.Event()
    task = asyncio.create_task(
        keep_live({"patchbay_test_first": first, "patchbay_test_second": second}, db.driver.dsn, stop)
    )
    sender = await asyncpg.connect(db.driver.dsn)
    try:
        for _ in range(500):
            if first.live and second.live:
                break
            await asyncio.sleep(0.01)
        assert first.live and second.live
        listening = await sender.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'patchbay-listen' "
            "AND datname = current_database()"
        )
        assert listening == 1
        for cache in (first, second):
            cache.put("k", ROW, cache.generation)
        await sender.execute("SELECT pg_notify('patchbay_test_first', '')")
        for _ in range(200):
            if len(first) == 0:
                break
            await asyncio.sleep(0.01)
        assert len(first) == 0 and second.get("k") == ROW  # only the notified channel's cache

        await sender.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'patchbay-listen' "
            "AND datname = current_database()"
        )
        for _ in range(200):
            if not second.live:
                break
            await asyncio.sleep(0.01)
        assert not first.live and not second.live and len(second) == 0
        for _ in range(500):  # reconnected
            if first.live and second.live:
                break
            await asyncio.sleep(0.01)
        assert first.live and second.live
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)
        await sender.close()
        await db.dispose()
