"""Under `scripts/mutation` only: run a mutant's tests fastest file first, fastest test first.

mutmut runs each mutant's tests with `-x`, so a killed mutant costs the time to its first failing
test. Ordered by the durations mutmut recorded (mutants/mutmut-stats.json), a quick test that kills
it runs before a browser test that would too. Files stay whole so module fixtures are set up once.
Outside a mutation run (no MUTANT_UNDER_TEST naming a mutant) the order is left alone.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

STATS = Path("mutmut-stats.json")  # mutmut runs the tests from inside mutants/


def _durations() -> dict[str, float]:
    if "__mutmut_" not in os.environ.get("MUTANT_UNDER_TEST", "") or not STATS.is_file():
        return {}
    try:
        return dict(json.loads(STATS.read_text())["duration_by_test"])
    except (OSError, ValueError, KeyError):
        return {}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    durations = _durations()
    if not durations:
        return
    slowest = max(durations.values(), default=0.0)
    by_file: dict[str, float] = {}
    for item in items:
        seconds = durations.get(item.nodeid, slowest)
        by_file[item.nodeid.split("::")[0]] = min(by_file.get(item.nodeid.split("::")[0], seconds), seconds)
    items.sort(key=lambda i: (by_file[i.nodeid.split("::")[0]], durations.get(i.nodeid, slowest)))
