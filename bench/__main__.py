"""`python -m bench [--quick]` (from the repository root): Patchbay's benchmark, end to end.

Creates a throw-away PostgreSQL database (or uses an empty one given with --database-url), seeds it
with progress shown, starts `patchbay serve --workers 2`, drives load with wrk (Python fallback) at 32
connections against list, retrieve, create-as-upsert, Slack channels from cache (when the route
exists) and a bad key, measures the baseline app the same way, runs the scaling pair (list with few
and with many rows in the table), writes bench/results/<mode>.md, .png and .json, and stops every
server it started. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import sys
import time

from bench.database import default_admin_url
from bench.log import say
from bench.runner import Bench


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["webhooks"]:  # the webhook delivery scenario (bench/webhooks.py)
        from bench import webhooks

        return webhooks.main(argv[1:])
    if argv[:1] == ["proxy"]:  # the proxy against the provider called directly (bench/proxy.py)
        from bench import proxy

        return proxy.main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="smaller seed (20,000 rows; scaling 1,000 vs 100,000), 5 s runs"
    )
    parser.add_argument("--duration", type=float, help="seconds measured per run (default 20, quick 5)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--admin-url",
        default=default_admin_url(),
        help="PostgreSQL server to create the throw-away database on",
    )
    parser.add_argument("--database-url", help="use this existing, empty PostgreSQL database instead")
    parser.add_argument("--keep-database", action="store_true", help="do not drop the throw-away database")
    parser.add_argument("--redis", help="PATCHBAY_REDIS_URL for the server (default: in-process cache)")
    parser.add_argument(
        "--python-load", action="store_true", help="use the Python load generator even if wrk exists"
    )
    parser.add_argument("--no-install", action="store_true", help="do not apt-get install wrk when missing")
    parser.add_argument("--skip-scaling", action="store_true")
    parser.add_argument("--results", help="write the report here instead of bench/results/")
    parser.add_argument(
        "--src",
        help="serve patchbay from this source folder (holding patchbay/) instead: before/after comparisons",
    )
    parser.add_argument(
        "--seed-only", action="store_true", help="seed a database, print its URL and key, keep it"
    )
    parser.add_argument(
        "--profile", action="store_true", help="py-spy one worker during the list and create runs"
    )
    parser.add_argument("--keep-raw", action="store_true", help="keep py-spy's collapsed stacks (*.raw)")
    args = parser.parse_args(argv)
    if args.connections < 1 or args.connections > 1024:
        parser.error("--connections must be between 1 and 1024")
    if args.duration is not None and not 1 <= args.duration <= 300:
        parser.error("--duration must be between 1 and 300 seconds")
    bench = Bench(args)
    started = time.perf_counter()
    try:
        path = bench.run()
    except KeyboardInterrupt:
        bench.stop_all()
        bench.drop_database()
        return 130
    except Exception:
        bench.stop_all()
        raise
    say(f"done in {time.perf_counter() - started:.0f} s")
    print(path.read_text())
    from bench.report import WRITE_PATH_TARGETS, evaluate, load

    report = load(path.with_suffix(".json"))
    evaluate(report)
    for target in report.targets:
        if target.what in WRITE_PATH_TARGETS:
            met = "—" if target.ok is None else ("met" if target.ok else "NOT MET")
            say(f"{target.what}: {target.measured} (target {target.goal}) — {met}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
