"""Running the drills in order on one World (bench.faults.__main__ and tests/bench/test_faults.py)."""

from __future__ import annotations

import time

from bench.faults.drills import DRILLS
from bench.faults.report import DrillResult
from bench.faults.world import World, say


def run_drills(names: list[str] | None = None) -> list[DrillResult]:
    """Every drill (or those named), in order, on one World set up and torn down here."""
    world = World()
    results: list[DrillResult] = []
    try:
        world.setup()
        for drill in DRILLS:
            if names and drill.__name__ not in names:
                continue
            say(f"drill {drill.__name__} ...")
            result = drill(world)
            say(f"  {'pass' if result.passed else result.skipped or 'FAIL'}: {result.row()[2]}")
            for check in result.checks:
                if not check.passed:
                    say(f"  FAILED: {check.what}: {check.measured}")
            results.append(result)
            time.sleep(0.5)
    finally:
        world.teardown()
    return results
