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
import asyncio
import os
import platform
import secrets
import shlex
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
import psutil
from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url

from bench import profile as profiling
from bench.baseline import LIST_SQL
from bench.load import ADDRESS, LoadResult, Target, drive, ensure_wrk
from bench.report import Report, RunResult, write
from bench.seed import BENCH_PROJECT_ID, BENCH_PROJECT_ROWS, UPSERT_HOSTNAME, Seeded, Seeder, SeedPlan
from bench.servers import (
    REPO,
    CpuMeter,
    MemorySampler,
    Server,
    baseline_command,
    free_port,
    patchbay_command,
    py_spy,
)
from patchbay.kit.crypto import KeyRing
from patchbay.kit.db import SERVER_SETTINGS, driver_dsn

RESULTS = Path(__file__).resolve().parent / "results"


@dataclass(frozen=True)
class Mode:
    name: str
    orgs: int
    projects: int
    integrations: int
    scale_small: int
    scale_large: int
    duration: float
    warmup: float


FULL = Mode("full", 1_000, 10_000, 200_000, 1_000, 1_000_000, duration=20, warmup=5)
QUICK = Mode("quick", 100, 1_000, 20_000, 1_000, 100_000, duration=5, warmup=2)


def say(message: str) -> None:
    sys.stderr.write(f"[bench] {message}\n")
    sys.stderr.flush()


def default_admin_url() -> str:
    env = os.environ.get("PATCHBAY_DATABASE_URL", "")
    if env.startswith(("postgresql", "postgres:")):
        return make_url(driver_dsn(env)).set(database="postgres").render_as_string(hide_password=False)
    return "postgresql://postgres@127.0.0.1:5432/postgres"


async def _admin(admin_url: str, sql: str) -> None:
    conn = await asyncpg.connect(driver_dsn(admin_url))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def explain_list(url: str, repeats: int = 15) -> tuple[float, int, str]:
    """The list SQL on the benchmarked project: median execution time (ms), buffers it touches (a
    count that machine load does not move) and the scans of its plan."""
    # The session settings of Patchbay's engine (patchbay.kit.db.create_engine): the plan the app gets.
    conn = await asyncpg.connect(driver_dsn(url), server_settings=SERVER_SETTINGS)
    try:
        for _ in range(5):
            await conn.fetch(LIST_SQL, BENCH_PROJECT_ID, 100, 0)
        times, buffers, scans = [], 0, set()
        for _ in range(repeats):
            raw = await conn.fetchval(
                "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + LIST_SQL, BENCH_PROJECT_ID, 100, 0
            )
            plan = orjson.loads(raw)[0]
            times.append(float(plan["Execution Time"]))
            top = plan["Plan"]
            buffers = int(top.get("Shared Hit Blocks", 0)) + int(top.get("Shared Read Blocks", 0))
            stack = [top]
            while stack:
                node = stack.pop()
                if "Scan" in node["Node Type"]:
                    on = f" on {node['Relation Name']}" if node.get("Relation Name") else ""
                    using = f" using {node['Index Name']}" if node.get("Index Name") else ""
                    scans.add(f"{node['Node Type']}{on}{using}")
                stack.extend(node.get("Plans", []))
        times.sort()
        return times[len(times) // 2], buffers, "; ".join(sorted(scans))
    finally:
        await conn.close()


# Public addresses outside every range the distinct runs use (bench.load.next_first_octet).
PROBE_ADDRESS = "1.1.1.1"
CREATE_PROBE = {
    "kind": "databricks",
    "config": {"server_hostname": "9.9.9.9", "client_id": "bench", "client_secret": "bench-secret"},
}


def distinct_create(url: str, auth: dict[str, str]) -> Target:
    """POST a databricks integration for a different public address on every request."""
    body = {
        "kind": "databricks",
        "config": {"server_hostname": ADDRESS, "client_id": "b", "client_secret": "s"},
    }
    return Target(
        "create (distinct)", url, method="POST", headers={**auth, "Content-Type": "application/json"},
        body=orjson.dumps(body).decode(), expect_status=201,
    )  # fmt: skip


PUBLISHING = "create (distinct), publishing"
# Creates with and without publishing, measured as this many alternated pairs and pooled: one pair of
# short runs moves by ±5–10 points from one run to the next on two shared cores, more than the
# target's margin (three pairs pooled still spread from +4 to +10 % over four runs of one tree).
PUBLISHING_PAIRS = 5
ENDPOINT_ID = uuid.UUID("00000000-0000-4000-8000-00000000b0b0")


async def subscribe(url: str, project_id: int, enabled: bool) -> None:
    """The publishing run's endpoint on the creates' project, subscribed to integration.created:
    written once (as the webhooks API would store it; nothing is sent, delivery is off), then
    enabled or disabled."""
    conn = await asyncpg.connect(driver_dsn(url))
    try:
        now = datetime.now(UTC)
        await conn.execute(
            """
            INSERT INTO webhook_endpoints (id, project_id, url, events, description, enabled, disabled_reason,
                                           secret, previous_secret, created_at, updated_at)
            VALUES ($1, $2, 'https://hooks.bench.invalid/patchbay', '["integration.created"]'::jsonb,
                    'bench: publishing run', $3, '', 'not-a-secret', '', $4, $4)
            ON CONFLICT (id) DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at
            """,
            ENDPOINT_ID, project_id, enabled, now,
        )  # fmt: skip
    finally:
        await conn.close()


def channels_route_exists() -> bool:
    from patchbay.routing import PROJECT_ROUTERS

    return any(
        getattr(r, "path", "").endswith("/channels") for router in PROJECT_ROUTERS for r in router.routes
    )


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.mode = QUICK if args.quick else FULL
        if args.duration:
            self.mode = Mode(**{**self.mode.__dict__, "duration": args.duration})
        self.workdir = Path(tempfile.mkdtemp(prefix="patchbay-bench-"))
        self.keys = os.environ.get("PATCHBAY_ENCRYPTION_KEYS") or Fernet.generate_key().decode()
        self.servers: list[Server] = []
        self.created_db: str | None = None
        self.sandbox: Any = None
        self.wrk: str | None = None
        self.notes: list[str] = []
        self.database = ""
        self.results = Path(args.results) if args.results else RESULTS
        self.url = ""
        self.seeded_user_id = 0

    # --- database ----------------------------------------------------------------------------
    def prepare_database(self) -> str:
        if self.args.database_url:
            url = self.args.database_url
        else:
            name = f"patchbay_bench_{secrets.token_hex(4)}"
            say(f"creating throw-away database {name}")
            asyncio.run(_admin(self.args.admin_url, f'CREATE DATABASE "{name}"'))
            self.created_db = name
            url = (
                make_url(driver_dsn(self.args.admin_url))
                .set(database=name)
                .render_as_string(hide_password=False)
            )
        say("migrating")
        if self.args.src:
            # The schema of the code under test: its own migration history, which may end earlier.
            subprocess.run(
                [
                    sys.executable,
                    "-c",
                    "import sys; from patchbay.migrations import upgrade; upgrade(sys.argv[1])",
                    url,
                ],
                env={**os.environ, "PYTHONPATH": self.args.src},
                check=True,
            )
        else:
            from patchbay.migrations import upgrade

            upgrade(url)
        return url

    def drop_database(self) -> None:
        if self.created_db and not self.args.keep_database:
            asyncio.run(
                _admin(self.args.admin_url, f'DROP DATABASE IF EXISTS "{self.created_db}" WITH (FORCE)')
            )
            say(f"dropped {self.created_db}")

    # --- servers -----------------------------------------------------------------------------
    def server_env(self, url: str, port: int) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PATCHBAY_")}
        env.update(
            {
                "PATCHBAY_DATABASE_URL": url,
                "PATCHBAY_ENCRYPTION_KEYS": self.keys,
                "PATCHBAY_RATE_LIMIT": "off",
                "PATCHBAY_SITE_URL": f"http://127.0.0.1:{port}",
                # The publishing run writes deliveries to an endpoint nobody serves: measure the
                # publishing, not attempts to send (delivery is bench/webhooks.py's).
                "PATCHBAY_WEBHOOK_DELIVERY": "false",
                "PROMETHEUS_MULTIPROC_DIR": str(self.workdir / "metrics"),
                "PYTHONPATH": os.pathsep.join(
                    p for p in (self.args.src, str(REPO), os.environ.get("PYTHONPATH", "")) if p
                ),
            }
        )
        (self.workdir / "metrics").mkdir(exist_ok=True)
        if self.args.redis:
            env["PATCHBAY_REDIS_URL"] = self.args.redis
            env["PATCHBAY_REDIS_KEY_PREFIX"] = f"patchbay-bench-{secrets.token_hex(4)}:"
        if self.sandbox is not None:
            env.update(self.sandbox.env())
        return env

    def start_patchbay(self, url: str) -> Server:
        port = free_port()
        server = Server(
            "patchbay",
            patchbay_command(port, self.args.workers),
            self.server_env(url, port),
            port,
            self.workdir,
        )
        say(f"starting patchbay serve --workers {self.args.workers} on port {port}")
        self.servers.append(server.start())
        return server

    def start_baseline(self, url: str, *, health: bool = True) -> Server:
        port = free_port()
        env = self.server_env(url, port)
        # A tree from before issue 12 (--src) answers no `health`: the baseline then serves none either.
        env["BENCH_BASELINE_HEALTH"] = "1" if health else "0"
        env["BENCH_BASELINE_DSN"] = driver_dsn(url)
        env["BENCH_BASELINE_KEY"] = self.keys.split(",")[0]
        env["BENCH_BASELINE_USER_ID"] = str(self.seeded_user_id)
        env["BENCH_SITE_URL"] = f"http://127.0.0.1:{port}"
        server = Server("baseline", baseline_command(port, self.args.workers), env, port, self.workdir)
        say(f"starting the baseline (uvicorn, {self.args.workers} workers) on port {port}")
        self.servers.append(server.start())
        return server

    def stop(self, server: Server) -> None:
        server.stop()
        if server in self.servers:
            self.servers.remove(server)

    def stop_all(self) -> None:
        for server in list(self.servers):
            self.stop(server)
        if self.sandbox is not None:
            self.sandbox.stop()
            self.sandbox = None

    # --- the sandbox Slack (channels run) ------------------------------------------------------
    def start_slack_sandbox(self) -> str | None:
        try:
            from patchbay.providers.slack import simulator_api as slack_api
            from patchbay.sandbox.server import SandboxServer

            sandbox = SandboxServer().start()
            team = slack_api.seed_workspace(sandbox.state)
            for i in range(200):
                slack_api.add_channel(sandbox.state, f"channel-{i:03d}", team_id=team)
            token = slack_api.issue_token(sandbox.state, team_id=team)
        except Exception as exc:  # noqa: BLE001 - the channels run is optional
            self.notes.append(f"Slack channels run skipped: the Slack sandbox could not be set up ({exc!r}).")
            return None
        self.sandbox = sandbox
        return token

    # --- one measured run ----------------------------------------------------------------------
    def measure(
        self, server: Server, name: str, target: Target, description: str, rows: int, *, profile: bool = False
    ) -> RunResult:
        self.probe(target)
        say(f"run {name} on {server.name}: {target.method} {target.url} ...")
        raw = self.results / f"{self.mode.name}-profile-{name.replace(' ', '-')}.raw"
        spy_bin, workers = (py_spy(), server.workers()) if profile else (None, [])
        meter = CpuMeter(server, self.database)
        load = {"wrk": self.wrk, "connections": self.args.connections, "warmup": 0.0}
        with MemorySampler(server) as sampler:
            # Warm-up (discarded), then the measured window, with CPU counted and py-spy sampling.
            if self.mode.warmup > 0:
                drive(target, seconds=self.mode.warmup, **load)  # type: ignore[arg-type]
            spy = (
                profiling.record(spy_bin, workers[0].pid, self.mode.duration, raw)
                if spy_bin and workers
                else None
            )
            sessions_before = asyncio.run(self.sessions())
            meter.start()
            result = drive(target, seconds=self.mode.duration, **load)  # type: ignore[arg-type]
            meter.stop()
            new_sessions = asyncio.run(self.sessions()) - sessions_before
            if spy is not None:
                spy.wait(timeout=60)
        if spy is not None and raw.exists():
            summary = self.results / f"{self.mode.name}-profile-{name.replace(' ', '-')}.txt"
            summary.write_text(profiling.summarise(raw))
            if not self.args.keep_raw:
                raw.unlink()
            say(f"profile written to {summary}")
        run = self.result(server, name, target, description, rows, result, sampler)
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

    def result(
        self,
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

    def probe(self, target: Target) -> None:
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

    # --- the whole benchmark ---------------------------------------------------------------------
    def run(self) -> Path:
        mode, args = self.mode, self.args
        self.results.mkdir(parents=True, exist_ok=True)
        loadavg = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        self.wrk = None if args.python_load else ensure_wrk(install=not args.no_install)
        if not self.wrk:
            self.notes.append(
                "wrk was not available: the Python load generator (bench.pyload) drove the load."
            )
        with_channels = channels_route_exists()
        slack_token = (self.start_slack_sandbox() if with_channels else None) or "xoxb-not-used"
        if not with_channels:
            self.notes.append(
                "Slack channels run skipped: the route /api/projects/{id}/integrations/{id}/channels/ does not "
                "exist in this build (src/patchbay/routing.py)."
            )
        url = self.prepare_database()
        self.database = str(make_url(driver_dsn(url)).database)
        self.url = url
        seeder = Seeder(url, KeyRing.from_string(self.keys))
        if not asyncio.run(seeder.is_empty()):
            raise SystemExit(
                f"error: {make_url(driver_dsn(url)).render_as_string(hide_password=True)} is not empty"
            )
        plan = SeedPlan(mode.orgs, mode.projects, mode.integrations)
        say(
            f"seeding {plan.orgs:,} organizations, {plan.projects:,} projects, {2 * plan.orgs:,} users and keys"
        )
        seeded = asyncio.run(seeder.seed(plan, min(mode.scale_small, mode.integrations), slack_token))
        if self.args.seed_only:
            asyncio.run(seeder.top_up(mode.integrations))
            self.created_db = None  # kept: the caller asked for the data
            self.stop_all()
            print(
                orjson.dumps(
                    {
                        "database_url": url,
                        "api_key": seeded.api_key,
                        "project_id": seeded.project_id,
                        "retrieve_id": seeded.retrieve_id,
                        "slack_id": seeded.slack_id,
                        "encryption_keys": self.keys,
                    }
                ).decode()
            )
            raise SystemExit(0)
        report = Report(
            mode=mode.name,
            started=datetime.now(UTC).isoformat(timespec="seconds"),
            environment={
                "command": "python -m bench" + (" " + shlex.join(sys.argv[1:]) if sys.argv[1:] else ""),
                "cpus": os.cpu_count(),
                "memory_gb": round(psutil.virtual_memory().total / 1e9, 1),
                "loadavg_before": loadavg,
                "python": f"Python {platform.python_version()}",
                "postgres": asyncio.run(self._pg_version(url)),
                "workers": args.workers,
                "redis": args.redis,
                "load_tool": "wrk (2 threads)" if self.wrk else "bench.pyload (Python)",
                "connections": args.connections,
                "duration": mode.duration,
                "warmup": mode.warmup,
            },
            seed={
                "orgs": plan.orgs,
                "projects": plan.projects,
                "users": 2 * plan.orgs,
                "integrations": plan.integrations,
                "bench_project_rows": BENCH_PROJECT_ROWS,
                "seed_s": seeded.timings["seed_s"],
            },
            notes=self.notes,
        )
        try:
            self.run_all(url, seeder, seeded, report, with_channels)
        finally:
            self.stop_all()
            self.drop_database()
        path = write(report, self.results)
        say(f"report: {path} and {path.with_suffix('.png')}")
        return path

    async def sessions(self) -> int:
        """Sessions ever opened on the benchmark database (PostgreSQL 14+; 0 when unknown)."""
        try:
            conn = await asyncpg.connect(driver_dsn(self.url))
        except (OSError, asyncpg.PostgresError):
            return 0
        try:
            value = await conn.fetchval(
                "SELECT sessions FROM pg_stat_database WHERE datname = current_database()"
            )
            return int(value or 0) - 1  # not counting this one
        except asyncpg.PostgresError:
            return 0
        finally:
            await conn.close()

    async def _pg_version(self, url: str) -> str:
        conn = await asyncpg.connect(driver_dsn(url))
        try:
            return "PostgreSQL " + str(await conn.fetchval("SHOW server_version")).split()[0]
        finally:
            await conn.close()

    def run_all(self, url: str, seeder: Seeder, seeded: Seeded, report: Report, with_channels: bool) -> None:
        mode, args = self.mode, self.args
        auth = {"Authorization": f"Bearer {seeded.api_key}"}
        base = f"/api/projects/{seeded.project_id}/integrations/"
        # Distinct creates go to another project of the same organization: the listed one keeps its rows.
        create_base = f"/api/projects/{seeded.project_id + mode.orgs}/integrations/"
        self.seeded_user_id = seeded.user_id

        server = self.start_patchbay(url)
        list_target = Target("list", server.base_url + base, headers=auth)
        if not args.skip_scaling:
            report.scaling.append(self.scaling_point(server, list_target, seeder.rows, url))
        say(f"topping integrations up to {mode.integrations:,}")
        took = asyncio.run(seeder.top_up(mode.integrations))
        report.seed["seed_s"] += took
        self.check_list(server, list_target)

        runs = [
            (
                "list",
                list_target,
                f"GET {base} — the first page ({BENCH_PROJECT_ROWS} integrations) with a valid key.",
            ),
            (
                "retrieve",
                Target("retrieve", f"{server.base_url}{base}{seeded.retrieve_id}/", headers=auth),
                f"GET {base}{seeded.retrieve_id}/ with a valid key.",
            ),
            (
                "create (upsert)",
                Target(
                    "upsert",
                    server.base_url + base,
                    method="POST",
                    headers={**auth, "Content-Type": "application/json"},
                    body=orjson.dumps(
                        {
                            "kind": "databricks",
                            "config": {
                                "server_hostname": UPSERT_HOSTNAME,
                                "client_id": "bench",
                                "client_secret": "bench-secret",
                            },
                        }
                    ).decode(),
                    expect_status=201,
                ),
                f"POST {base} a databricks integration for {UPSERT_HOSTNAME} that already exists, on every "
                "request: the re-create of ONE account, every connection queued on one row lock; validation, "
                "secret encryption, the upsert (update), the outbox's lookup, 201.",
            ),
            (
                "create (distinct)",
                distinct_create(server.base_url + create_base, auth),
                f"POST {create_base} a databricks integration for a new public address on every request: "
                "creates of DISTINCT accounts (many customers connecting at once); validation, secret "
                "encryption, the upsert (insert), the outbox's lookup, 201.",
            ),
            (
                PUBLISHING,
                distinct_create(server.base_url + create_base, auth),
                f"The same creates with one endpoint of {create_base} subscribed to integration.created: each "
                "create also writes its event's delivery (in the same statement on PostgreSQL). The "
                "server's delivery loops are off (PATCHBAY_WEBHOOK_DELIVERY=false): this measures "
                "publishing, `python -m bench webhooks` measures delivery.",
            ),
        ]
        if with_channels and self.sandbox is not None:
            runs.append(
                (
                    "slack channels",
                    Target("channels", f"{server.base_url}{base}{seeded.slack_id}/channels/", headers=auth),
                    f"GET {base}{seeded.slack_id}/channels/ — 200 channels, served from the cache after each "
                    "worker's first call to the Slack sandbox.",
                )
            )
        runs.append(
            (
                "bad key",
                Target(
                    "bad key",
                    server.base_url + base,
                    headers={"Authorization": "Bearer phx_" + "x" * 47},
                    expect_status=401,
                ),
                f"GET {base} with a well-formed key that does not exist: 401.",
            )
        )
        create_project = seeded.project_id + mode.orgs
        for name, target, description in runs:
            if name == PUBLISHING:
                asyncio.run(subscribe(url, create_project, True))
            report.runs.append(
                self.measure(
                    server,
                    name,
                    target,
                    description,
                    seeder.rows,
                    profile=args.profile and name in ("list", "create (distinct)", PUBLISHING),
                )  # fmt: skip
            )
            if name == PUBLISHING:
                asyncio.run(subscribe(url, create_project, False))
                self.check_published(url, create_project)
        creates = next(target for name, target, _ in runs if name == PUBLISHING)
        self.more_publishing_pairs(server, report, url, create_project, creates, seeder.rows)
        patchbay_list_body = httpx.get(list_target.url, headers=auth, timeout=30).json()
        patchbay_created = httpx.post(
            server.base_url + create_base, json=CREATE_PROBE, headers=auth, timeout=30
        ).json()
        self.stop(server)

        results = patchbay_list_body.get("results") or [{}]
        baseline = self.start_baseline(url, health="health" in results[0])
        baseline_target = Target("baseline list", baseline.base_url + base)
        baseline_body = httpx.get(baseline_target.url, timeout=30).json()
        if (
            baseline_body["results"] != patchbay_list_body["results"]
            or baseline_body["count"] != patchbay_list_body["count"]
        ):
            raise RuntimeError(
                "the baseline's list differs from Patchbay's: the comparison would not be fair"
            )
        report.runs.append(
            self.measure(
                baseline,
                "list",
                baseline_target,
                f"GET {base} on the baseline: the same SQL and the same JSON results as Patchbay's list, no "
                "authentication (checked equal before the run).",
                seeder.rows,
            )
        )
        created = httpx.post(
            baseline.base_url + create_base, json=CREATE_PROBE, headers=auth, timeout=30
        ).json()
        if set(created) != set(patchbay_created) or created["config"] != patchbay_created["config"]:
            raise RuntimeError(f"the baseline's create answers otherwise than Patchbay's: {created}")
        report.runs.append(
            self.measure(
                baseline,
                "create (distinct)",
                distinct_create(baseline.base_url + create_base, {}),
                f"POST {create_base} on the baseline: the same statements in one transaction (the upsert, the "
                "outbox's endpoint lookup), the secret encrypted, the same answer; no authentication.",
                seeder.rows,
            )
        )
        self.stop(baseline)

        if not args.skip_scaling:
            say(f"topping integrations up to {mode.scale_large:,} for the scaling run")
            asyncio.run(seeder.top_up(mode.scale_large))
            server = self.start_patchbay(url)
            list_target = Target("list", server.base_url + base, headers=auth)
            self.check_list(server, list_target)
            report.scaling.append(self.scaling_point(server, list_target, seeder.rows, url))
            self.stop(server)

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

    def more_publishing_pairs(
        self, server: Server, report: Report, url: str, project_id: int, target: Target, rows: int
    ) -> None:
        """The distinct creates without and with publishing again, alternated (see PUBLISHING_PAIRS);
        the report pools every pair, the main runs' included."""
        first = [report.run("create (distinct)"), report.run(PUBLISHING)]
        if None in first:
            return
        report.publishing_pairs.append([r for r in first if r is not None])
        for number in range(2, PUBLISHING_PAIRS + 1):
            pair = []
            for name, subscribed in (("create (distinct)", False), (PUBLISHING, True)):
                asyncio.run(subscribe(url, project_id, subscribed))
                pair.append(self.measure(server, f"{name} (pair {number})", target, "", rows))
            asyncio.run(subscribe(url, project_id, False))
            report.publishing_pairs.append(pair)
        self.check_published(url, project_id)

    def check_published(self, url: str, project_id: int) -> None:
        """The publishing run wrote an event per create (else it measured nothing more)."""

        async def count() -> tuple[int, int]:
            conn = await asyncpg.connect(driver_dsn(url))
            try:
                row = await conn.fetchrow(
                    "SELECT count(DISTINCT event_id), count(*) FROM webhook_deliveries "
                    "WHERE endpoint_id = $1 AND event_type = 'integration.created' "
                    "AND body LIKE '%\"project_id\":' || $2::int || ',%'",
                    ENDPOINT_ID,
                    project_id,
                )
                return int(row[0]), int(row[1])
            finally:
                await conn.close()

        events, deliveries = asyncio.run(count())
        if not events or events != deliveries:
            raise RuntimeError(f"the publishing run wrote {events} events and {deliveries} deliveries")
        say(f"  the publishing run wrote {events:,} events, each with its delivery")

    def check_list(self, server: Server, target: Target) -> None:
        body = httpx.get(target.url, headers=target.headers, timeout=30).json()
        if body.get("count") != BENCH_PROJECT_ROWS or len(body.get("results", [])) != BENCH_PROJECT_ROWS:
            raise RuntimeError(
                f"the benchmarked project should list {BENCH_PROJECT_ROWS} integrations: {str(body)[:300]}"
            )


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
