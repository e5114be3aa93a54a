"""The report's publishing target: pooled over alternated pairs, weighted by each run's requests."""

from __future__ import annotations

from typing import Any

from bench.report import RunResult, _publishing_target


def run(app: float, db: float, requests: int, rps: float = 1000.0) -> RunResult:
    fields: dict[str, Any] = dict(
        name="create (distinct)", server="patchbay", description="", rps=rps, p50_ms=1, p90_ms=1, p99_ms=1,
        max_ms=1, requests=requests, non2xx=0, errors=0, expected_status=201, peak_worker_mb=1,
        per_worker_mb=[1], tool="wrk", rows_in_table=1,
    )  # fmt: skip
    return RunResult(**fields, app_cpu_us=app, db_cpu_us=db)


def test_pairs_are_pooled_by_requests() -> None:
    # Pair 1: 1,000 -> 1,300 µs (+30 %) over few requests; pair 2: 1,000 -> 1,000 over many.
    pairs = [[run(800, 200, 100), run(1000, 300, 100)], [run(800, 200, 900), run(800, 200, 900)]]
    target = _publishing_target(pairs)
    assert target.measured.startswith("+3.0 % over 2 alternated pairs")  # (1,300 + 9,000) / 10 vs 1,000
    assert "pair by pair +30.0 %, +0.0 %" in target.measured
    assert target.ok is True


def test_a_costly_publishing_misses_the_target() -> None:
    target = _publishing_target([[run(800, 200, 500), run(850, 300, 500)]])
    assert target.measured.startswith("+15.0 %") and target.ok is False
