"""`mutmut run`, minus the second pass of the clean tests when this run has just collected stats.

mutmut 3.8 runs the selected tests twice before the first mutant: traced (the stats: which test
reaches which function; any failing test stops the run there) and then plain (the "clean tests").
After a full stats pass the plain pass repeats a suite that has just passed, about six minutes on
2 cores, so it is skipped then, and only then: a resumed run that loads its stats still has it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

import mutmut.__main__ as mutmut_main
from mutmut.workers import isolation

_stats_passed_this_run = False
_collect_stats = mutmut_main.run_stats_collection


def run_stats_collection(runner: isolation.MutantRunner, tests: Iterable[str] | None = None) -> None:
    global _stats_passed_this_run
    _collect_stats(runner, tests)  # exits the run on a failing test
    if not tests:  # None or empty: the whole selection
        _stats_passed_this_run = True


def _skip_clean_after_stats(cls: type[isolation.MutantRunner]) -> None:
    run_clean_tests = cls.run_clean_tests

    def patched(self: isolation.MutantRunner, tests: Iterable[str]) -> int:
        if _stats_passed_this_run:
            print("    clean tests: the whole selection passed in the stats pass just now")
            return 0
        return run_clean_tests(self, tests)

    cls.run_clean_tests = patched  # type: ignore[method-assign]


mutmut_main.run_stats_collection = run_stats_collection
for runner_class in (isolation.ForkServerRunner, isolation.ForkRunner):
    _skip_clean_after_stats(runner_class)

if __name__ == "__main__":
    sys.argv[0] = "mutmut"
    sys.exit(mutmut_main.cli())
