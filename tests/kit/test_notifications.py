"""kit.notifications.listen: a LISTEN that reports when it is in place and when it is lost."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import pytest

from patchbay.kit.db import Database
from patchbay.kit.notifications import listen


async def test_an_unreachable_server_is_retried_until_stopped() -> None:
    events: list[str] = []
    stop = asyncio.Event()
    task = asyncio.create_task(
        listen(
            "postgresql://postgres@127.0.0.1:9/nowhere",  # discard port: refused at once
            "channel",
            on_notification=lambda payload: events.append("notified"),
            on_listening=lambda: events.append("listening"),
            on_lost=lambda: events.append("lost"),
            stop=stop,
        )
    )
    await asyncio.sleep(0.3)
    stop.set()
    started = time.monotonic()
    await asyncio.wait_for(task, 5)
    assert time.monotonic() - started < 1  # a stop ends the wait between retries at once
    assert events and set(events) == {"lost"}


async def test_notifications_arrive_after_listening(backend: str, database_url: str) -> None:
    if backend != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    db = Database(database_url)
    assert db.driver is not None
    received: list[str] = []
    listening = asyncio.Event()
    stop = asyncio.Event()
    task = asyncio.create_task(
        listen(
            db.driver.dsn,
            "patchbay_test_channel",
            on_notification=received.append,
            on_listening=listening.set,
            on_lost=lambda: None,
            stop=stop,
        )
    )
    try:
        await asyncio.wait_for(listening.wait(), 5)
        sender = await asyncpg.connect(db.driver.dsn)
        try:
            await sender.execute("SELECT pg_notify('patchbay_test_channel', 'hello')")
        finally:
            await sender.close()
        for _ in range(200):
            if received:
                break
            await asyncio.sleep(0.01)
        assert received == ["hello"]
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)
        await db.dispose()
