"""`python -m bench.faults`: run every drill against its own PostgreSQL, Redis and `patchbay serve
--workers 2`, print one row per drill and write bench/results/faults.md (docs/reliability.md)."""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.faults.drills import DRILLS
from bench.faults.report import table, update_docs, write
from bench.faults.services import missing_tools
from bench.faults.suite import run_drills
from bench.faults.world import say

RESULTS = Path(__file__).resolve().parent.parent / "results" / "faults.md"
DOCS = Path(__file__).resolve().parent.parent.parent / "docs" / "reliability.md"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.faults", description=__doc__.split("\n\n")[0])
    parser.add_argument("drills", nargs="*", help=f"run only these: {', '.join(d.__name__ for d in DRILLS)}")
    parser.add_argument("--results", default=str(RESULTS), help="where to write the markdown report")
    args = parser.parse_args(argv)
    missing = missing_tools()
    if missing:
        say("cannot run: missing " + ", ".join(missing))
        return 2
    started = time.monotonic()
    load_before = os.getloadavg()[0]
    results = run_drills(args.drills or None)
    took = time.monotonic() - started
    header = [
        f"Run {datetime.now(UTC).isoformat(timespec='seconds')} with `python -m bench.faults` in {took:.0f} s: "
        f"{os.cpu_count()} CPUs (shared), Python {platform.python_version()}, `patchbay serve --workers 2` on "
        "its own PostgreSQL cluster and redis-server; steady load: 4 connections listing every 20 ms and 2 "
        f"creating distinct accounts every 30 ms. Load average {load_before:.1f} before, "
        f"{os.getloadavg()[0]:.1f} after (other work on the machine).",
    ]
    path = write(results, header, Path(args.results))
    if not args.drills and Path(args.results) == RESULTS and update_docs(results, header, DOCS):
        say(f"table updated in {DOCS}")
    print(table(results))
    say(f"report: {path} ({took:.0f} s)")
    return 0 if all(r.passed or r.skipped for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
