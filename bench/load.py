"""Drives load from a separate process: wrk (Debian's `wrk` package) when present, else bench.pyload.

Every run is bounded in time and aimed at a loopback address only.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from urllib.parse import urlsplit

WRK_DONE = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,'
    .. '"non2xx":%d,"errors":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, e.status, e.connect + e.read + e.write + e.timeout))
end
"""


# A body holding this marker gets a different public IPv4 address in its place on every request
# (distinct accounts: creates that insert, not re-create one row). The first octet differs between
# load processes of one benchmark process, so no two requests of a benchmark send the same address.
ADDRESS = "{address}"
_FIRST_OCTETS = itertools.chain(range(11, 100), range(101, 127))  # public, never 10/100.64/127


@dataclass
class Target:
    name: str
    url: str
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    expect_status: int = 200

    @property
    def distinct(self) -> bool:
        return ADDRESS in self.body


def next_first_octet() -> int:
    try:
        return next(_FIRST_OCTETS)
    except StopIteration:
        raise RuntimeError("out of distinct address ranges for this benchmark process") from None


def address(first: int, n: int) -> str:
    """The n-th address of a load process (n < 2**24)."""
    return f"{first}.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


@dataclass
class LoadResult:
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    requests: int
    non2xx: int
    errors: int
    tool: str


def _loopback_only(url: str) -> None:
    host = urlsplit(url).hostname or ""
    if not (host == "localhost" or host.startswith("127.") or host == "::1"):
        raise ValueError(f"load is only ever sent to loopback addresses, not {host!r}")


def ensure_wrk(install: bool) -> str | None:
    """The wrk binary, installing Debian's package when allowed and missing; None means fall back."""
    found = shutil.which("wrk")
    if found or not install:
        return found
    if shutil.which("apt-get") and os.geteuid() == 0:
        sys.stderr.write("wrk not found: installing Debian's wrk package ...\n")
        subprocess.run(
            ["apt-get", "update", "-qq"], check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "wrk"],
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    return shutil.which("wrk")


def _distinct_lua(body: str, threads: int) -> str:
    """wrk's request() for a distinct-address body: thread t sends addresses t, t + threads, ..."""
    before, _, after = body.partition(ADDRESS)
    return f"""
local first, threads, counter, started = {next_first_octet()}, {threads}, 0, 0
function setup(thread) thread:set("tid", started); started = started + 1 end
function request()
  local n = counter * threads + tid
  counter = counter + 1
  local address = string.format("%d.%d.%d.%d", first, math.floor(n / 65536) % 256,
                                math.floor(n / 256) % 256, n % 256)
  return wrk.format(nil, nil, nil, {json.dumps(before)} .. address .. {json.dumps(after)})
end
"""


def _lua(target: Target, threads: int) -> str:
    lines = [f"wrk.method = {json.dumps(target.method)}"]
    for name, value in target.headers.items():
        lines.append(f"wrk.headers[{json.dumps(name)}] = {json.dumps(value)}")
    if target.distinct:
        lines.append(_distinct_lua(target.body, threads))
    elif target.body:
        lines.append(f"wrk.body = {json.dumps(target.body)}")
    return "\n".join(lines) + "\n" + WRK_DONE


def _run_wrk(wrk: str, target: Target, connections: int, seconds: float, threads: int) -> LoadResult:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_lua(target, threads))
    try:
        proc = subprocess.run(
            [wrk, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
             "-s", script.name, target.url],
            capture_output=True, text=True, timeout=seconds + 60, check=False,
        )  # fmt: skip
    finally:
        os.unlink(script.name)
    for line in proc.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            data = json.loads(line[len("BENCH_JSON ") :])
            duration = data["duration_us"] / 1e6
            return LoadResult(
                rps=data["requests"] / duration if duration else 0.0,
                p50_ms=data["p50_us"] / 1000,
                p90_ms=data["p90_us"] / 1000,
                p99_ms=data["p99_us"] / 1000,
                max_ms=data["max_us"] / 1000,
                requests=data["requests"],
                non2xx=data["non2xx"],
                errors=data["errors"],
                tool="wrk",
            )
    raise RuntimeError(f"wrk printed no result (exit {proc.returncode}): {proc.stderr.strip()[:500]}")


def _run_pyload(target: Target, connections: int, seconds: float, warmup: float) -> LoadResult:
    cmd = [sys.executable, "-m", "bench.pyload", target.url, "--connections", str(connections),
           "--duration", str(seconds), "--warmup", str(warmup), "--method", target.method]  # fmt: skip
    for name, value in target.headers.items():
        cmd += ["--header", f"{name}: {value}"]
    if target.body:
        cmd += ["--body", target.body]
    if target.distinct:
        cmd += ["--first-octet", str(next_first_octet())]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + warmup + 60, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"bench.pyload failed: {proc.stderr.strip()[-500:]}")
    data = json.loads(proc.stdout.strip().splitlines()[-1])
    return LoadResult(
        rps=data["rps"],
        p50_ms=data["p50_ms"],
        p90_ms=data["p90_ms"],
        p99_ms=data["p99_ms"],
        max_ms=data["max_ms"],
        requests=data["requests"],
        non2xx=data["non2xx"],
        errors=data["errors"],
        tool="python",
    )


def drive(
    target: Target, *, wrk: str | None, connections: int, seconds: float, warmup: float, threads: int = 2
) -> LoadResult:
    """Warm up, then measure `seconds` of load at `connections` connections."""
    _loopback_only(target.url)
    if wrk:
        if warmup > 0:
            _run_wrk(wrk, target, connections, warmup, threads)
        return _run_wrk(wrk, target, connections, seconds, threads)
    return _run_pyload(target, connections, seconds, warmup)
