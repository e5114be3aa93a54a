"""Steady load for the drills, with every request remembered (bench.pyload's wire code, in a thread).

bench.pyload measures throughput and keeps only totals. A drill needs each answer: when it was
asked and answered, its status and envelope code, and for a create which account it asked for (the
rows checked afterwards against what was acknowledged). Streams are paced (a request every
`interval` seconds per connection), so their latency is not the machine's saturation point.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import orjson

from bench.pyload import read_response

CLIENT_TIMEOUT = 15.0  # an answer slower than this counts as a hang


@dataclass
class Record:
    stream: str
    started: float  # time.monotonic()
    ended: float
    status: int  # 0: no HTTP answer
    # answered | refused (no connection) | closed (closed before any byte of an answer) |
    # cut (closed in the middle of an answer) | hung (no answer within CLIENT_TIMEOUT)
    outcome: str
    code: str = ""  # the envelope's code when status >= 400
    key: str = ""  # what a create asked for
    upstream: bool = False  # the answer carried `Patchbay-Proxy: upstream` (the provider's own)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def seconds(self) -> float:
        return self.ended - self.started


@dataclass
class Stream:
    name: str
    connections: int
    interval: float  # seconds between two requests of one connection (0: back to back)
    make: Callable[[int], tuple[bytes, str]]  # request number -> (raw HTTP request, key)
    counter: Iterator[int] = field(default_factory=itertools.count)


def http_request(
    port: int, method: str, path: str, headers: dict[str, str] | None = None, body: Any = None
) -> bytes:
    data = b"" if body is None else orjson.dumps(body)
    lines = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: keep-alive"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if data:
        lines += ["Content-Type: application/json", f"Content-Length: {len(data)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


def _envelope_code(body: bytes) -> str:
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return "(not json)"
    return str(parsed.get("code", "")) if isinstance(parsed, dict) else "(not an envelope)"


class Traffic:
    """Streams of requests against 127.0.0.1:`port`, run on an event loop in a daemon thread."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.records: list[Record] = []
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self._running: list[tuple[asyncio.Event, Future[Any]]] = []

    # --- control, from the drill's thread --------------------------------------------------------
    def start(self, stream: Stream) -> None:
        stop = asyncio.Event()

        async def run() -> None:
            await asyncio.gather(*(self._connection(stream, stop) for _ in range(stream.connections)))

        self._running.append((stop, asyncio.run_coroutine_threadsafe(run(), self.loop)))

    def burst(self, stream: Stream, count: int) -> Future[list[Record]]:
        """`count` requests of `stream` at once, each on its own connection; a future of their records."""

        async def one() -> Record:
            raw, key = stream.make(next(stream.counter))
            record, conn = await self._exchange(stream.name, raw, key, None)
            if conn is not None:
                conn[1].close()
            self.records.append(record)
            return record

        async def run() -> list[Record]:
            return list(await asyncio.gather(*(one() for _ in range(count))))

        return asyncio.run_coroutine_threadsafe(run(), self.loop)

    def stop(self) -> None:
        for stop, _ in self._running:
            self.loop.call_soon_threadsafe(stop.set)
        for _, future in self._running:
            future.result(timeout=CLIENT_TIMEOUT + 5)
        self._running.clear()

    def close(self) -> None:
        self.stop()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)

    def between(self, start: float, end: float, stream: str | None = None) -> list[Record]:
        """Records of requests started in [start, end)."""
        return [
            r
            for r in list(self.records)
            if start <= r.started < end and (stream is None or r.stream == stream)
        ]

    # --- the wire -----------------------------------------------------------------------------------
    async def _connection(self, stream: Stream, stop: asyncio.Event) -> None:
        conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        while not stop.is_set():
            started = time.monotonic()
            raw, key = stream.make(next(stream.counter))
            record, conn = await self._exchange(stream.name, raw, key, conn)
            self.records.append(record)
            pause = stream.interval - (time.monotonic() - started)
            if record.outcome == "refused":
                pause = max(pause, 0.05)  # nobody listening: do not spin
            if pause > 0:
                try:
                    await asyncio.wait_for(stop.wait(), pause)
                except TimeoutError:
                    pass
        if conn is not None:
            conn[1].close()

    async def _exchange(
        self,
        name: str,
        raw: bytes,
        key: str,
        conn: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None,
    ) -> tuple[Record, tuple[asyncio.StreamReader, asyncio.StreamWriter] | None]:
        started = time.monotonic()

        def done(outcome: str, status: int = 0, code: str = "", upstream: bool = False) -> Record:
            return Record(name, started, time.monotonic(), status, outcome, code, key, upstream)

        if conn is None:
            try:
                conn = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", self.port), 5)
            except (OSError, TimeoutError):
                return done("refused"), None
        reader, writer = conn
        headers: list[bytes] = []
        try:
            writer.write(raw)
            status, keep_alive, body = await asyncio.wait_for(read_response(reader, headers), CLIENT_TIMEOUT)
        except TimeoutError:
            writer.close()
            return done("hung"), None
        except asyncio.IncompleteReadError as exc:
            writer.close()
            return done("cut" if exc.partial else "closed"), None
        except (OSError, ValueError, IndexError):
            writer.close()
            return done("closed"), None
        upstream = any(line.lower() == b"patchbay-proxy: upstream" for line in headers)
        record = done(
            "answered", status, _envelope_code(body) if status >= 400 and not upstream else "", upstream
        )
        if not keep_alive:
            writer.close()
            return record, None
        return record, conn
