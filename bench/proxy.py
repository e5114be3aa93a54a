"""`python -m bench proxy`: the proxy's cost, against calling the provider directly.

1. A throw-away PostgreSQL database, the Slack simulator (the sandbox, on loopback), one project
   with a Slack integration whose bot token the simulator issued, `patchbay serve --workers 2`.
2. The same load generator at the same connection count, alternated twice: `auth.test` straight at
   the simulator with the bot token (direct), then through
   `GET /api/projects/{id}/integrations/{pk}/proxy/auth.test` with a Patchbay key (proxy).
3. Throughput ratio proxy/direct (target >= 0.7) and the p50 the proxy adds (target <= 2 ms at 32
   connections), per round and for the better round of each.

Writes bench/results/proxy.md and .json. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import secrets
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url

from bench.load import LoadResult, Target, drive, ensure_wrk
from bench.servers import Server, free_port, patchbay_command
from bench.webhooks import _admin, say
from patchbay.kit.db import driver_dsn

RESULTS = Path(__file__).resolve().parent / "results"


async def _seed_integration(url: str, keys: str, project_id: int, token: str, team: str) -> int:
    from patchbay.config import Settings
    from patchbay.models import Integration
    from patchbay.runtime import build_runtime

    runtime = build_runtime(Settings(_env_file=None, database_url=url, encryption_keys=keys))  # type: ignore[call-arg]
    try:
        async with runtime.db.transaction() as session:
            row = Integration(
                project_id=project_id,
                kind="slack",
                integration_id=team,
                config={"team": {"id": team, "name": "Bench"}},
                sensitive_config=runtime.keyring.encrypt_json({"access_token": token}),
                errors="",
            )
            session.add(row)
            await session.flush()
            return int(row.id)
    finally:
        await runtime.close()


def _probe(target: Target, proxied: bool) -> None:
    answer = httpx.request(target.method, target.url, headers=target.headers, timeout=10)
    if answer.status_code != 200 or answer.json().get("ok") is not True:
        raise RuntimeError(f"{target.name}: {answer.status_code} {answer.text[:200]}")
    if proxied and answer.headers.get("patchbay-proxy") != "upstream":
        raise RuntimeError("the proxied answer lacks Patchbay-Proxy: upstream")


def _row(result: LoadResult) -> dict[str, Any]:
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in result.__dict__.items()}


def _report(data: dict[str, Any]) -> str:
    lines = [
        "# Proxy benchmark",
        "",
        f"{data['when']} · {data['machine']} · {data['connections']} connections · {data['duration']} s per run "
        f"after {data['warmup']} s warm-up · load generator {data['tool']} · `patchbay serve --workers "
        f"{data['workers']}` on PostgreSQL · provider: the Slack simulator (`auth.test`), one uvicorn "
        "process on the same machine",
        "",
        "| round | run | req/s | p50 ms | p90 ms | p99 ms | non-2xx | errors |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for index, pair in enumerate(data["rounds"], 1):
        for name in ("direct", "proxy"):
            r = pair[name]
            lines.append(
                f"| {index} | {name} | {r['rps']:,.0f} | {r['p50_ms']:.2f} | {r['p90_ms']:.2f} | "
                f"{r['p99_ms']:.2f} | {r['non2xx']} | {r['errors']} |"
            )
    lines += ["", "| round | throughput proxy / direct | p50 added (ms) |", "|---|---:|---:|"]
    for index, pair in enumerate(data["rounds"], 1):
        lines.append(f"| {index} | {pair['ratio']:.2f} | {pair['added_p50_ms']:.2f} |")
    best = data["best"]
    lines += [
        "",
        f"Best of each: direct {best['direct_rps']:,.0f} req/s, proxy {best['proxy_rps']:,.0f} req/s: "
        f"**ratio {best['ratio']:.2f}** (target ≥ 0.7: {'met' if best['ratio'] >= 0.7 else 'NOT met'}); "
        f"**p50 added {best['added_p50_ms']:.2f} ms** (target ≤ 2 ms: "
        f"{'met' if best['added_p50_ms'] <= 2 else 'NOT met'}).",
        "",
        "Every proxied call also writes its activity-log row and its metrics. Both runs share the two "
        "cores with the simulator, PostgreSQL and the load generator: the direct run's simulator has "
        "them nearly to itself, the proxy run splits them with Patchbay's two workers.",
    ]
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> Path:
    from patchbay.migrations import upgrade
    from patchbay.providers.slack import simulator_api as slack_api
    from patchbay.sandbox.server import SandboxServer

    workdir = Path(tempfile.mkdtemp(prefix="patchbay-bench-proxy-"))
    keys = Fernet.generate_key().decode()
    name = f"patchbay_bench_{secrets.token_hex(4)}"
    say(f"creating throw-away database {name}")
    asyncio.run(_admin(args.admin_url, f'CREATE DATABASE "{name}"'))
    url = make_url(driver_dsn(args.admin_url)).set(database=name).render_as_string(hide_password=False)
    sandbox = SandboxServer().start()
    server: Server | None = None
    try:
        upgrade(url)
        team = slack_api.seed_workspace(sandbox.state)
        token = slack_api.issue_token(sandbox.state, team_id=team)
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("PATCHBAY_")}
        env.update(sandbox.env())
        env.update(
            {
                "PATCHBAY_DATABASE_URL": url,
                "PATCHBAY_ENCRYPTION_KEYS": keys,
                "PATCHBAY_RATE_LIMIT": "off",
                "PATCHBAY_SITE_URL": f"http://127.0.0.1:{port}",
                "PATCHBAY_LOG_LEVEL": "WARNING",
            }
        )
        boot = subprocess.run(
            [str(Path(sys.executable).with_name("patchbay")), "bootstrap", "--email", "bench@example.com", "--json"],
            env=env, cwd=workdir, capture_output=True, text=True, check=True,
        )  # fmt: skip
        created = json.loads(boot.stdout)
        project = int(created["project"]["id"])
        pk = asyncio.run(_seed_integration(url, keys, project, token, team))
        server = Server("patchbay", patchbay_command(port, args.workers), env, port, workdir).start()
        direct = Target(
            "direct", f"{sandbox.base_url}/slack/api/auth.test", headers={"Authorization": f"Bearer {token}"}
        )
        proxy = Target(
            "proxy",
            f"{server.base_url}/api/projects/{project}/integrations/{pk}/proxy/auth.test",
            headers={"Authorization": f"Bearer {created['api_key']}"},
        )
        _probe(direct, False)
        _probe(proxy, True)
        wrk = None if args.python_load else ensure_wrk(not args.no_install)
        rounds = []
        for index in range(args.rounds):
            pair: dict[str, Any] = {}
            for target in (direct, proxy):
                say(f"round {index + 1}: {target.name}")
                result = drive(
                    target, wrk=wrk, connections=args.connections, seconds=args.duration, warmup=args.warmup
                )
                pair[target.name] = _row(result)
                pair["tool"] = result.tool
            pair["ratio"] = pair["proxy"]["rps"] / pair["direct"]["rps"] if pair["direct"]["rps"] else 0.0
            pair["added_p50_ms"] = pair["proxy"]["p50_ms"] - pair["direct"]["p50_ms"]
            rounds.append(pair)
        best_direct = max(rounds, key=lambda p: p["direct"]["rps"])["direct"]
        best_proxy = max(rounds, key=lambda p: p["proxy"]["rps"])["proxy"]
        data = {
            "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
            "connections": args.connections,
            "duration": args.duration,
            "warmup": args.warmup,
            "workers": args.workers,
            "tool": rounds[0]["tool"],
            "rounds": rounds,
            "best": {
                "direct_rps": best_direct["rps"],
                "proxy_rps": best_proxy["rps"],
                "ratio": best_proxy["rps"] / best_direct["rps"] if best_direct["rps"] else 0.0,
                "added_p50_ms": min(p["proxy"]["p50_ms"] for p in rounds)
                - min(p["direct"]["p50_ms"] for p in rounds),
            },
        }
        results = Path(args.results) if args.results else RESULTS
        results.mkdir(parents=True, exist_ok=True)
        (results / "proxy.json").write_text(json.dumps(data, indent=2) + "\n")
        report = _report(data)
        (results / "proxy.md").write_text(report)
        print(report)
        return results / "proxy.md"
    finally:
        if server is not None:
            server.stop()
        sandbox.stop()
        asyncio.run(_admin(args.admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        say(f"dropped {name}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench proxy", description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds measured per run")
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=2, help="direct/proxy pairs, alternated")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--admin-url",
        default=os.environ.get("PATCHBAY_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
        help="PostgreSQL server where the throw-away database is made",
    )
    parser.add_argument("--python-load", action="store_true", help="use bench.pyload even when wrk exists")
    parser.add_argument("--no-install", action="store_true", help="do not apt-get install wrk when missing")
    parser.add_argument("--results", help="write the report here instead of bench/results/")
    run(parser.parse_args(argv))
    return 0
