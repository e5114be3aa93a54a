"""The create's own CPU, with the app driven in-process: `python -m bench.inprocess`.

The HTTP runs (`python -m bench`) put the create beside uvicorn, wrk and the baseline on two cores,
and their CPU per request moves by ±20 % between identical runs. For a before/after comparison of
the create's code, this drives the ASGI app directly (no server, no load generator: the requests are
made in the process), one process per measurement on a throw-away database, and reports the
process's CPU per distinct create: the PostgreSQL side is not in it. With `--src A --src B` the trees
are measured alternately, `--repeats` times each, and compared by their minimum and median.

    python -m bench.inprocess                                   # this tree
    python -m bench.inprocess --src /tmp/before/src --src src   # two trees, alternated
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from cryptography.fernet import Fernet
from starlette.types import Message

from bench.database import create_throwaway_database, default_admin_url, drop_throwaway_database, migrate
from bench.load import address, next_first_octet
from bench.log import say
from bench.seed import Seeder, SeedPlan
from patchbay.kit.crypto import KeyRing

REPO = Path(__file__).resolve().parent.parent
PLAN = SeedPlan(orgs=10, projects=100, integrations=1_000)
WARMUP = 200


async def _measure(api_key: str, project_id: int, requests: int, concurrency: int, first: int) -> float:
    """(In the child.) CPU seconds of `requests` distinct creates, `concurrency` at a time."""
    from patchbay.app import create_app
    from patchbay.config import Settings

    app = create_app(Settings())
    path = f"/api/projects/{project_id}/integrations/"
    headers = [
        (b"host", b"127.0.0.1"),
        (b"authorization", f"Bearer {api_key}".encode()),
        (b"content-type", b"application/json"),
    ]
    made = iter(range(1, 1 << 24))

    async def create() -> None:
        host = address(first, next(made))
        body = json.dumps(
            {
                "kind": "databricks",
                "config": {"server_hostname": host, "client_id": "b", "client_secret": "s"},
            }
        ).encode()
        messages: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]
        sent: list[Message] = []

        async def receive() -> Message:
            return messages.pop() if messages else {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            sent.append(message)

        scope = {
            "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
            "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"", "root_path": "",
            "headers": [*headers, (b"content-length", str(len(body)).encode())],
            "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 80), "state": {},
        }  # fmt: skip
        await app(scope, receive, send)
        if sent[0]["status"] != 201:
            raise RuntimeError(f"a create answered {sent[0]['status']}: {sent[-1].get('body', b'')[:200]!r}")

    async def worker(count: int) -> None:
        for _ in range(count):
            await create()

    async with app.router.lifespan_context(app):
        await worker(WARMUP)
        started = time.process_time()
        await asyncio.gather(*(worker(requests // concurrency) for _ in range(concurrency)))
        return time.process_time() - started


def _child(args: argparse.Namespace) -> int:
    cpu = asyncio.run(
        _measure(
            args.api_key,
            args.project,
            args.requests,
            args.concurrency,
            args.first,
        )
    )
    import patchbay

    measured = args.requests // args.concurrency * args.concurrency
    print(json.dumps({"cpu_us": cpu / measured * 1e6, "patchbay": str(Path(patchbay.__file__).parent)}))
    return 0


def _run_child(src: str, url: str, keys: str, api_key: str, project: int, args: argparse.Namespace) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PATCHBAY_")}
    env |= {
        "PATCHBAY_DATABASE_URL": url, "PATCHBAY_ENCRYPTION_KEYS": keys, "PATCHBAY_RATE_LIMIT": "off",
        "PATCHBAY_WEBHOOK_DELIVERY": "false", "PATCHBAY_LOG_LEVEL": "INFO",  # the access line is a cost
        "PYTHONPATH": os.pathsep.join(p for p in (src, str(REPO)) if p),
    }  # fmt: skip
    command = [
        sys.executable, "-m", "bench.inprocess", "--child", "--api-key", api_key, "--project", str(project),
        "--requests", str(args.requests), "--concurrency", str(args.concurrency), "--first", str(next_first_octet()),
    ]  # fmt: skip
    done = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the measurement of {src} failed:\n{done.stderr[-2000:]}")
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    if Path(answer["patchbay"]).resolve() != (Path(src) / "patchbay").resolve():
        raise RuntimeError(f"the measurement of {src} imported patchbay from {answer['patchbay']}")
    return float(answer["cpu_us"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.inprocess", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--src", action="append", help="a source folder holding patchbay/ (repeat to compare)"
    )
    parser.add_argument("--requests", type=int, default=4000, help="creates per measurement (default 4000)")
    parser.add_argument("--repeats", type=int, default=5, help="measurements per tree (default 5)")
    parser.add_argument("--concurrency", type=int, default=8, help="creates in flight at once (default 8)")
    parser.add_argument("--admin-url", default=default_admin_url(), help="PostgreSQL server for the database")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--api-key", help=argparse.SUPPRESS)
    parser.add_argument("--project", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--first", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return _child(args)
    if args.requests < args.concurrency or args.repeats < 1:
        parser.error("--requests must be at least --concurrency, and --repeats at least 1")
    trees = args.src or [str(REPO / "src")]
    for tree in trees:
        if not (Path(tree) / "patchbay" / "__init__.py").is_file():
            parser.error(f"--src {tree}: no patchbay package there")
    name, url = create_throwaway_database(args.admin_url)
    try:
        migrate(url, None)
        keys = Fernet.generate_key().decode()
        seeded = asyncio.run(
            Seeder(url, KeyRing.from_string(keys)).seed(PLAN, PLAN.integrations, "xoxb-unused")
        )
        project = seeded.project_id + PLAN.orgs  # another project of the first organization, as the HTTP runs
        cpu: dict[str, list[float]] = {tree: [] for tree in trees}
        for repeat in range(args.repeats):
            for tree in trees:
                cpu[tree].append(_run_child(tree, url, keys, seeded.api_key, project, args))
                say(f"{repeat + 1}/{args.repeats} {tree}: {cpu[tree][-1]:.0f} µs per create")
    finally:
        drop_throwaway_database(args.admin_url, name)
    print(f"CPU per distinct create, in-process ({args.requests:,} creates, {args.concurrency} at a time):")
    first_median = statistics.median(cpu[trees[0]])
    for tree in trees:
        median = statistics.median(cpu[tree])
        print(
            f"  {tree}: min {min(cpu[tree]):.0f} µs, median {median:.0f} µs "
            f"({median / first_median:.2f} × the first tree's median)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
