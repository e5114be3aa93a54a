"""The fault drills (bench/faults, docs/reliability.md) as tests: every drill runs once, on its own
PostgreSQL cluster, redis-server and `patchbay serve --workers 2`, and each must pass its checks.

Marked `faults` (about two minutes): `pytest -m "not faults"` leaves them out of a quick run.
"""

from __future__ import annotations

import pytest
from bench.faults.drills import DRILLS
from bench.faults.report import DrillResult
from bench.faults.services import missing_tools
from bench.faults.suite import run_drills

pytestmark = [
    pytest.mark.faults,
    pytest.mark.skipif(bool(missing_tools()), reason=f"drills need {', '.join(missing_tools())}"),
]


@pytest.fixture(scope="module")
def results() -> dict[str, DrillResult]:
    ran = run_drills()
    return {drill.__name__: result for drill, result in zip(DRILLS, ran, strict=True)}


@pytest.mark.timeout(420)
@pytest.mark.parametrize("name", [drill.__name__ for drill in DRILLS])
def test_drill(results: dict[str, DrillResult], name: str) -> None:
    result = results[name]
    if result.skipped:
        pytest.skip(result.skipped)
    # Speed comparisons are reported by `python -m bench.faults`, not asserted here.
    failed = [f"{c.what}: {c.measured}" for c in result.checks if not c.passed and not c.speed]
    assert result.checks, "a drill that checks nothing proves nothing"
    assert not failed, failed
    assert result.records, "the drill sent no requests"
