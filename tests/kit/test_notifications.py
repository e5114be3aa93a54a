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
            {"channel": lambda payload: events.append("notified")},
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


async def test_notifications_arrive_after_listening_each_to_its_channel(
    backend: str, database_url: str
) -> None:
    if backend != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    db = Database(database_url)
    assert db.driver is not None
    received: list[str] = []
    other: list[str] = []
    listening = asyncio.Event()
    stop = asyncio.Event()
    task = asyncio.create_task(
        listen(
            db.driver.dsn,
            {"patchbay_test_channel": received.append, "patchbay_test_other": other.append},
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
            await sender.execute("SELECT pg_notify('patchbay_test_other', 'there')")
        finally:
            await sender.close()
        for _ in range(200):
            if received and other:
                break
            await asyncio.sleep(0.01)
        assert received == ["hello"] and other == ["there"]
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)
        await db.dispose()


async def test_a_connection_the_server_ends_is_reported_lost_at_once(backend: str, database_url: str) -> None:
    """A restart ends the listening session: `on_lost` must follow within moments, not at the next
    health check (the caller cache trusts notifications until it is told)."""
    if backend != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    db = Database(database_url)
    assert db.driver is not None
    events: list[tuple[str, float]] = []
    listening = asyncio.Event()
    stop = asyncio.Event()

    def on_listening() -> None:
        events.append(("listening", time.monotonic()))
        listening.set()

    task = asyncio.create_task(
        listen(
            db.driver.dsn,
            {"patchbay_test_lost": lambda _payload: None},
            on_listening=on_listening,
            on_lost=lambda: events.append(("lost", time.monotonic())),
            stop=stop,
        )
    )
    try:
        await asyncio.wait_for(listening.wait(), 5)
        listening.clear()
        admin = await asyncpg.connect(db.driver.dsn)
        try:
            ended = time.monotonic()
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = 'patchbay-listen' AND query LIKE '%patchbay_test_lost%'"
            )
        finally:
            await admin.close()
        await asyncio.wait_for(listening.wait(), 5)  # and it listens again
        lost_at = next(at for name, at in events if name == "lost")
        assert lost_at - ended < 1.0  # the health check runs every 5 s: this is the termination
        assert [name for name, _ in events] == ["listening", "lost", "listening"]
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)
        await db.dispose()
