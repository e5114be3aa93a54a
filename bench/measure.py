"""One measured run: a probe request, a warm-up, then the load with CPU, memory, new database
sessions and (optionally) py-spy recorded, as the report's RunResult; and the scaling point."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

from bench import profile as profiling
from bench.database import explain_list, sessions
from bench.load import ADDRESS, LoadResult, Target, drive
from bench.log import say
from bench.report import RunResult
from bench.runs import PROBE_ADDRESS, Mode
from bench.seed import BENCH_PROJECT_ROWS
from bench.servers import CpuMeter, MemorySampler, Server, py_spy
from patchbay.kit.db import driver_dsn


class Measurer:
    """Measures runs against servers on one benchmark database, with one mode's warm-up and duration."""

    def __init__(
        self, mode: Mode, results: Path, wrk: str | None, connections: int, keep_raw: bool, url: str
    ) -> None:
        self.mode = mode
        self.results = results
        self.wrk = wrk
        self.connections = connections
        self.keep_raw = keep_raw
        self.url = url
        self.database = str(make_url(driver_dsn(url)).database)

    def measure(
        self, server: Server, name: str, target: Target, description: str, rows: int, *, profile: bool = False
    ) -> RunResult:
        probe(target)
        say(f"run {name} on {server.name}: {target.method} {target.url} ...")
        raw = self.results / f"{self.mode.name}-profile-{name.replace(' ', '-')}.raw"
        spy_bin, workers = (py_spy(), server.workers()) if profile else (None, [])
        meter = CpuMeter(server, self.database)
        load = {"wrk": self.wrk, "connections": self.connections, "warmup": 0.0}
        with MemorySampler(server) as sampler:
            # Warm-up (discarded), then the measured window, with CPU counted and py-spy sampling.
            if self.mode.warmup > 0:
                drive(target, seconds=self.mode.warmup, **load)  # type: ignore[arg-type]
            spy = (
                profiling.record(spy_bin, workers[0].pid, self.mode.duration, raw)
                if spy_bin and workers
                else None
            )
            sessions_before = asyncio.run(sessions(self.url))
            meter.start()
            result = drive(target, seconds=self.mode.duration, **load)  # type: ignore[arg-type]
            meter.stop()
            new_sessions = asyncio.run(sessions(self.url)) - sessions_before
            if spy is not None:
                spy.wait(timeout=60)
        if spy is not None and raw.exists():
            summary = self.results / f"{self.mode.name}-profile-{name.replace(' ', '-')}.txt"
            summary.write_text(profiling.summarise(raw))
            if not self.keep_raw:
                raw.unlink()
            say(f"profile written to {summary}")
        run = run_result(server, name, target, description, rows, result, sampler)
        run.new_db_sessions = new_sessions
        if result.requests:
            run.app_cpu_us = 1e6 * meter.app_s / result.requests
            run.db_cpu_us = 1e6 * meter.db_s / result.requests
        say(
            f"  {run.rps:,.0f} req/s, p50 {run.p50_ms:.2f} ms, p99 {run.p99_ms:.2f} ms, "
            f"non-2xx {run.non2xx}, errors {run.errors}, peak RSS/worker {run.peak_worker_mb:.0f} MB, "
            f"CPU/request: app {run.app_cpu_us:.0f} us + PostgreSQL {run.db_cpu_us:.0f} us"
        )
        return run

    def scaling_point(self, server: Server, target: Target, rows: int, url: str) -> RunResult:
        """The list under the run's load, then one connection at a time (the cost without queueing),
        and the list SQL's own execution time and plan from EXPLAIN ANALYZE."""
        run = self.measure(server, "list", target, f"scaling: {rows:,} rows", rows)
        say("  the same list at 1 connection ...")
        single = drive(
            target, wrk=self.wrk, connections=1, seconds=min(self.mode.duration, 5.0), warmup=0.0, threads=1
        )
        run.single_p50_ms = single.p50_ms
        run.sql_ms, run.sql_buffers, run.plan = asyncio.run(explain_list(url))
        say(
            f"  1 connection: p50 {single.p50_ms:.2f} ms; SQL {run.sql_ms:.3f} ms, "
            f"{run.sql_buffers} buffers ({run.plan})"
        )
        return run


def run_result(
    server: Server,
    name: str,
    target: Target,
    description: str,
    rows: int,
    r: LoadResult,
    s: MemorySampler,
) -> RunResult:
    non2xx = r.non2xx if target.expect_status < 400 else 0
    if target.expect_status >= 400:
        # wrk counts every 4xx as a status error: here each one is the expected answer.
        description += f" Every response was checked to be {target.expect_status} before the run."
    return RunResult(
        name=name, server=server.name, description=description, rps=r.rps, p50_ms=r.p50_ms, p90_ms=r.p90_ms,
        p99_ms=r.p99_ms, max_ms=r.max_ms, requests=r.requests, non2xx=non2xx, errors=r.errors,
        expected_status=target.expect_status, peak_worker_mb=s.peak_mb, per_worker_mb=s.per_worker_mb,
        tool=r.tool, rows_in_table=rows,
    )  # fmt: skip


def probe(target: Target) -> None:
    """One request before the load: the run measures the answer it claims to."""
    body = target.body.replace(ADDRESS, PROBE_ADDRESS)
    response = httpx.request(
        target.method, target.url, headers=target.headers, content=body or None, timeout=30
    )
    if response.status_code != target.expect_status:
        raise RuntimeError(
            f"{target.method} {target.url} answered {response.status_code}, expected "
            f"{target.expect_status}: {response.text[:300]}"
        )


def check_list(server: Server, target: Target) -> None:
    body = httpx.get(target.url, headers=target.headers, timeout=30).json()
    if body.get("count") != BENCH_PROJECT_ROWS or len(body.get("results", [])) != BENCH_PROJECT_ROWS:
        raise RuntimeError(
            f"the benchmarked project should list {BENCH_PROJECT_ROWS} integrations: {str(body)[:300]}"
        )
