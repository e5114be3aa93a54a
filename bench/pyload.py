"""Fallback load generator when wrk is absent: `python -m bench.pyload URL --connections 32 --duration 10`.

Keep-alive HTTP/1.1 over raw asyncio streams (uvloop when installed), one coroutine per connection,
bounded by time: it stops by itself. Prints one JSON object, the same fields bench.load reads from wrk.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from urllib.parse import urlsplit

import orjson


def percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(pct / 100.0 * len(sorted_values) + 0.5) - 1))
    return sorted_values[index]


async def read_response(
    reader: asyncio.StreamReader, headers: list[bytes] | None = None
) -> tuple[int, bool, bytes]:
    """(status, whether the server keeps the connection open, body). Also used by bench.faults, which
    may ask for the header lines too (`headers` is filled with them)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    if headers is not None:
        headers.extend(lines[1:])
    status = int(lines[0].split(b" ", 2)[1])
    keep_alive = lines[0].startswith(b"HTTP/1.1")
    length = 0
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        lname = name.strip().lower()
        if lname == b"content-length":
            length = int(value.strip())
        elif lname == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
        elif lname == b"connection":
            keep_alive = b"close" not in value.lower() and (keep_alive or b"keep-alive" in value.lower())
    body = b""
    if chunked:
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            body += (await reader.readexactly(size + 2))[:size]
            if size == 0:
                break
    elif length:
        body = await reader.readexactly(length)
    elif not keep_alive:
        body = await reader.read()  # no length: the body ends with the connection
    return status, keep_alive, body


class Requests:
    """The request bytes to send next: always the same, or with a fresh address in the body
    (bench.load.ADDRESS) when the body holds the marker."""

    def __init__(self, head: str, body: str, first_octet: int) -> None:
        self.head, self.body, self.first_octet = head, body, first_octet
        self.count = 0
        self.fixed = None if "{address}" in body else self._build(body)

    def _build(self, body: str) -> bytes:
        data = body.encode()
        length = f"Content-Length: {len(data)}\r\n" if data else ""
        return (self.head + length + "\r\n").encode() + data

    def next(self) -> bytes:
        if self.fixed is not None:
            return self.fixed
        n, self.count = self.count, self.count + 1
        address = f"{self.first_octet}.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"
        return self._build(self.body.replace("{address}", address))


async def _connection(
    host: str,
    port: int,
    requests: Requests,
    stop_at: float,
    record_from: float,
    latencies: list[float],
    stats: dict[str, int],
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while True:
            started = time.perf_counter()
            if started >= stop_at:
                return
            writer.write(requests.next())
            try:
                status, keep_alive, _ = await read_response(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                stats["errors"] += 1
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
                continue
            ended = time.perf_counter()
            if started >= record_from:
                latencies.append(ended - started)
                stats["requests"] += 1
                if status >= 400:
                    stats["non2xx"] += 1
            if not keep_alive:
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
    finally:
        writer.close()


async def run(
    url: str,
    connections: int,
    duration: float,
    warmup: float,
    method: str,
    headers: list[str],
    body: str,
    first_octet: int = 11,
) -> dict[str, float]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    lines = [f"{method} {path} HTTP/1.1", f"Host: {parts.netloc}", "Connection: keep-alive", *headers]
    requests = Requests("\r\n".join(lines) + "\r\n", body, first_octet)
    latencies: list[float] = []
    stats = {"requests": 0, "non2xx": 0, "errors": 0}
    now = time.perf_counter()
    record_from = now + warmup
    stop_at = record_from + duration
    await asyncio.gather(
        *(
            _connection(host, port, requests, stop_at, record_from, latencies, stats)
            for _ in range(connections)
        )
    )
    latencies.sort()
    return {
        "requests": stats["requests"],
        "duration_s": duration,
        "rps": stats["requests"] / duration,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p90_ms": percentile(latencies, 90) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
        "max_ms": (latencies[-1] * 1000) if latencies else 0.0,
        "non2xx": stats["non2xx"],
        "errors": stats["errors"],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=0.0)
    parser.add_argument("--method", default="GET")
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--body", default="")
    parser.add_argument("--first-octet", type=int, default=11, help="of the addresses that replace {address}")
    args = parser.parse_args(argv)
    if not (0 < args.duration <= 600):
        parser.error("--duration must be in (0, 600] seconds")
    runner = asyncio.run
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:
        pass
    result = runner(
        run(
            args.url,
            args.connections,
            args.duration,
            args.warmup,
            args.method,
            args.header,
            args.body,
            args.first_octet,
        )
    )
    sys.stdout.write(orjson.dumps(result).decode() + "\n")


if __name__ == "__main__":
    main()
