"""The benchmark end to end, in order (`python -m bench`): the database prepared and seeded, the runs
on Patchbay's server, the baseline's runs and the scaling point, the report written, and everything
it started stopped and dropped."""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shlex
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson
import psutil
from cryptography.fernet import Fernet
from sqlalchemy.engine import make_url

from bench.database import create_throwaway_database, drop_throwaway_database, migrate, pg_version
from bench.fleet import ServerFleet
from bench.load import Target, ensure_wrk
from bench.log import say
from bench.measure import Measurer, check_list
from bench.publishing import check_published, more_publishing_pairs, subscribe
from bench.report import Report, write
from bench.runs import (
    CREATE_PROBE,
    FULL,
    PUBLISHING,
    QUICK,
    Mode,
    channels_route_exists,
    distinct_create,
    patchbay_runs,
)
from bench.seed import BENCH_PROJECT_ROWS, Seeded, Seeder, SeedPlan
from patchbay.kit.crypto import KeyRing
from patchbay.kit.db import driver_dsn

RESULTS = Path(__file__).resolve().parent / "results"


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.mode = QUICK if args.quick else FULL
        if args.duration:
            self.mode = Mode(**{**self.mode.__dict__, "duration": args.duration})
        self.workdir = Path(tempfile.mkdtemp(prefix="patchbay-bench-"))
        self.keys = os.environ.get("PATCHBAY_ENCRYPTION_KEYS") or Fernet.generate_key().decode()
        self.created_db: str | None = None
        self.wrk: str | None = None
        self.notes: list[str] = []
        self.results = Path(args.results) if args.results else RESULTS
        self.fleet = ServerFleet(args.workers, args.src, args.redis, self.keys, self.workdir, self.notes)

    def prepare_database(self) -> str:
        if self.args.database_url:
            url = self.args.database_url
        else:
            self.created_db, url = create_throwaway_database(self.args.admin_url)
        migrate(url, self.args.src)
        return url

    def drop_database(self) -> None:
        if self.created_db and not self.args.keep_database:
            drop_throwaway_database(self.args.admin_url, self.created_db)

    def stop_all(self) -> None:
        self.fleet.stop_all()

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
        slack_token = (self.fleet.start_slack_sandbox() if with_channels else None) or "xoxb-not-used"
        if not with_channels:
            self.notes.append(
                "Slack channels run skipped: the route /api/projects/{id}/integrations/{id}/channels/ does not "
                "exist in this build (src/patchbay/routing.py)."
            )
        url = self.prepare_database()
        measurer = Measurer(mode, self.results, self.wrk, args.connections, args.keep_raw, url)
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
                "postgres": asyncio.run(pg_version(url)),
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
            self.run_all(url, measurer, seeder, seeded, report, with_channels)
        finally:
            self.stop_all()
            self.drop_database()
        path = write(report, self.results)
        say(f"report: {path} and {path.with_suffix('.png')}")
        return path

    def run_all(
        self,
        url: str,
        measurer: Measurer,
        seeder: Seeder,
        seeded: Seeded,
        report: Report,
        with_channels: bool,
    ) -> None:
        mode, args, fleet = self.mode, self.args, self.fleet
        auth = {"Authorization": f"Bearer {seeded.api_key}"}
        base = f"/api/projects/{seeded.project_id}/integrations/"
        # Distinct creates go to another project of the same organization: the listed one keeps its rows.
        create_base = f"/api/projects/{seeded.project_id + mode.orgs}/integrations/"

        server = fleet.start_patchbay(url)
        list_target = Target("list", server.base_url + base, headers=auth)
        if not args.skip_scaling:
            report.scaling.append(measurer.scaling_point(server, list_target, seeder.rows, url))
        say(f"topping integrations up to {mode.integrations:,}")
        took = asyncio.run(seeder.top_up(mode.integrations))
        report.seed["seed_s"] += took
        check_list(server, list_target)

        runs = patchbay_runs(
            list_target,
            server.base_url,
            auth,
            seeded,
            base,
            create_base,
            slack_channels=with_channels and fleet.sandbox is not None,
        )
        create_project = seeded.project_id + mode.orgs
        for name, target, description in runs:
            if name == PUBLISHING:
                asyncio.run(subscribe(url, create_project, True))
            report.runs.append(
                measurer.measure(
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
                check_published(url, create_project)
        creates = next(target for name, target, _ in runs if name == PUBLISHING)
        more_publishing_pairs(measurer, server, report, url, create_project, creates, seeder.rows)
        patchbay_list_body = httpx.get(list_target.url, headers=auth, timeout=30).json()
        patchbay_created = httpx.post(
            server.base_url + create_base, json=CREATE_PROBE, headers=auth, timeout=30
        ).json()
        fleet.stop(server)

        results = patchbay_list_body.get("results") or [{}]
        baseline = fleet.start_baseline(url, seeded.user_id, health="health" in results[0])
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
            measurer.measure(
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
            measurer.measure(
                baseline,
                "create (distinct)",
                distinct_create(baseline.base_url + create_base, {}),
                f"POST {create_base} on the baseline: the same statements in one transaction (the upsert, the "
                "outbox's endpoint lookup), the secret encrypted, the same answer; no authentication.",
                seeder.rows,
            )
        )
        fleet.stop(baseline)

        if not args.skip_scaling:
            say(f"topping integrations up to {mode.scale_large:,} for the scaling run")
            asyncio.run(seeder.top_up(mode.scale_large))
            server = fleet.start_patchbay(url)
            list_target = Target("list", server.base_url + base, headers=auth)
            check_list(server, list_target)
            report.scaling.append(measurer.scaling_point(server, list_target, seeder.rows, url))
            fleet.stop(server)
