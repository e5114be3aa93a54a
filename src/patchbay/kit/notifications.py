"""PostgreSQL LISTEN on a few channels over one connection, kept connected for as long as the process
runs (each listening connection is one more backend PostgreSQL wakes at every notification)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from typing import Any

import asyncpg

log = logging.getLogger("patchbay.notifications")

HEALTH_CHECK_INTERVAL = 5.0  # seconds between checks that the listening connection still answers
# After consecutive failures; back to the first once connected. Capped at 2 s: what waits on the
# LISTEN (the caller cache, webhook wake-ups) is bypassed or polled meanwhile, and after a PostgreSQL
# restart it should be back within seconds of the server (docs/reliability.md).
RETRY_DELAYS = (0.5, 1.0, 2.0)
CONNECT_TIMEOUT = 5.0  # a server that accepts but never answers must not hold the retry loop


async def listen(
    dsn: str,
    channels: Mapping[str, Callable[[str], None]],
    *,
    on_listening: Callable[[], None],
    on_lost: Callable[[], None],
    stop: asyncio.Event,
) -> None:
    """LISTEN on every channel of `channels` (each with its callback, given the payload) until `stop`
    is set, reconnecting after any failure.

    `on_listening` runs once the LISTEN is in place (nothing sent after it can be missed); `on_lost`
    as soon as the connection is known to be gone, before any retry: in between, notifications may
    have been missed.
    """
    failures = 0
    connected = asyncio.Event()

    def listening() -> None:
        connected.set()
        on_listening()

    while not stop.is_set():
        connected.clear()
        try:
            await _listen_once(dsn, channels, listening, stop)
        except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            names = ", ".join(channels)
            log.warning("listening on %s failed; retrying", names, extra={"error": type(exc).__name__})
        finally:
            on_lost()
        failures = 0 if connected.is_set() else failures + 1
        if not stop.is_set():
            delay = RETRY_DELAYS[min(failures, len(RETRY_DELAYS) - 1)]
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)


async def _listen_once(
    dsn: str,
    channels: Mapping[str, Callable[[str], None]],
    on_listening: Callable[[], None],
    stop: asyncio.Event,
) -> None:
    connection = await asyncpg.connect(
        dsn, server_settings={"application_name": "patchbay-listen"}, timeout=CONNECT_TIMEOUT
    )
    lost = asyncio.Event()
    try:
        connection.add_termination_listener(lambda _connection: lost.set())

        def notified(_connection: Any, _pid: int, channel: str, payload: str) -> None:
            channels[channel](payload)

        for channel in channels:
            await connection.add_listener(channel, notified)
        on_listening()
        while not stop.is_set() and not lost.is_set():
            # Woken by a stop or by the connection's end, whichever comes first: a server that
            # closed it (a restart) is reported at once, not at the next health check; until then
            # the caller would trust notifications that can no longer arrive.
            waits = {asyncio.ensure_future(stop.wait()), asyncio.ensure_future(lost.wait())}
            try:
                await asyncio.wait(waits, timeout=HEALTH_CHECK_INTERVAL, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiting in waits:
                    waiting.cancel()
            if not stop.is_set() and not lost.is_set():
                await connection.fetchval("SELECT 1", timeout=HEALTH_CHECK_INTERVAL)
    finally:
        if not connection.is_closed():
            with contextlib.suppress(Exception):
                await connection.close(timeout=2)
