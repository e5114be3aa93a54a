"""`python -m bench webhooks`: webhook delivery from the outbox, end to end, on PostgreSQL.

1. A throw-away database, `patchbay serve --workers 2`, a receiver in its own process
   (bench/webhook_receiver.py) that answers 200 at once.
2. The create benchmark (POST integrations at 32 connections, the server's delivery loops off) without
   any endpoint, then with one endpoint subscribed (each create writes an event and a delivery in
   its transaction), alternated, for creates of distinct accounts (each an insert) and re-creates of
   one account (each an update of one row): what publishing adds.
3. 10,000 events committed at a fixed rate into the outbox tables (as the hook writes them, NOTIFY
   included) and delivered by the two workers: all delivered, none twice, and commit-to-delivery
   latency (the event's `created_at`, stamped just before its commit, to its arrival).

Writes bench/results/webhooks.md and .json. See docs/benchmarks.md.
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
import time
import uuid
from collections import Counter
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
from bench.database import admin_sql
from bench.load import ADDRESS, Target, drive, ensure_wrk
from bench.seed import UPSERT_HOSTNAME
from bench.servers import REPO, Server, free_port, patchbay_command, py_spy
from bench.webhooks_report import report
from patchbay.kit.db import driver_dsn

RESULTS = Path(__file__).resolve().parent / "results"
CREATE_BODY = {
    "kind": "databricks",
    "config": {"server_hostname": UPSERT_HOSTNAME, "client_id": "bench", "client_secret": "bench-secret"},
}
DISTINCT_BODY = {"kind": "databricks", "config": {**CREATE_BODY["config"], "server_hostname": ADDRESS}}
SHAPES = {"distinct": DISTINCT_BODY, "one row": CREATE_BODY}


@dataclass(frozen=True)
class Receiver:
    base_url: str
    proc: subprocess.Popen[bytes]


def say(message: str) -> None:
    sys.stderr.write(f"[bench webhooks] {message}\n")
    sys.stderr.flush()


def _cpu_seconds(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))] if ordered else 0.0


async def _pending(url: str) -> int:
    """Deliveries still to go out to enabled endpoints."""
    conn = await asyncpg.connect(driver_dsn(url))
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id "
                "WHERE d.status = 'pending' AND e.enabled"
            )
        )
    finally:
        await conn.close()


async def _vacuum(url: str) -> None:
    conn = await asyncpg.connect(driver_dsn(url))
    try:
        await conn.execute("VACUUM (ANALYZE) integrations, webhook_deliveries")
    finally:
        await conn.close()


async def _forget_events(url: str) -> None:
    conn = await asyncpg.connect(driver_dsn(url))
    try:
        await conn.execute("DELETE FROM webhook_deliveries")
    finally:
        await conn.close()


async def offer_events(
    url: str, endpoint_id: str, project_id: int, organization_id: str, count: int, rate: float
) -> dict[str, Any]:
    """`count` events committed at a fixed rate, as the outbox hook writes them (a pending delivery
    carrying its event per row, committed in small transactions every 20 ms; the insert trigger sends
    the NOTIFY at each commit). `created_at` is stamped just before each commit."""
    conn = await asyncpg.connect(driver_dsn(url))
    tick = 0.02
    sent = 0
    started = time.monotonic()
    try:
        while sent < count:
            due = min(count, int((time.monotonic() - started) * rate) + 1)
            if due > sent:
                now = datetime.now(UTC)
                deliveries = []
                for _ in range(due - sent):
                    event_id = "evt_" + secrets.token_hex(12)
                    body = {
                        "id": event_id, "type": "integration.updated", "created_at": now,
                        "project_id": project_id, "organization_id": organization_id,
                        "data": {"integration": {"id": 1, "kind": "databricks"}},
                    }  # fmt: skip
                    rendered = orjson.dumps(body, option=orjson.OPT_UTC_Z).decode()
                    deliveries.append((uuid.uuid4(), event_id, rendered, uuid.UUID(endpoint_id), now))
                async with conn.transaction():
                    await conn.executemany(
                        "INSERT INTO webhook_deliveries (id, event_id, event_type, body, event_created_at, "
                        "endpoint_id, status, attempts, last_error, next_attempt_at, created_at) "
                        "VALUES ($1, $2, 'integration.updated', $3, $5, $4, 'pending', 0, '', $5, $5)",
                        deliveries,
                    )
                sent = due
            await asyncio.sleep(tick)
    finally:
        await conn.close()
    took = time.monotonic() - started
    return {"offered": sent, "offer_seconds": round(took, 2), "offered_rate": round(sent / took, 1)}


class WebhookBench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.results = Path(args.results) if args.results else RESULTS
        self.workdir = Path(tempfile.mkdtemp(prefix="patchbay-bench-webhooks-"))
        self.servers: list[Server] = []
        self.receivers: list[Receiver] = []
        self.database = f"patchbay_bench_{secrets.token_hex(4)}"
        self.url = (
            make_url(driver_dsn(args.admin_url))
            .set(database=self.database)
            .render_as_string(hide_password=False)
        )

    # --- set-up ------------------------------------------------------------------------------------
    def env(self, port: int, *, delivery: bool = True) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PATCHBAY_")}
        env.update(
            {
                "PATCHBAY_DATABASE_URL": self.url,
                "PATCHBAY_ENCRYPTION_KEYS": self.keys,
                "PATCHBAY_RATE_LIMIT": "off",
                "PATCHBAY_SITE_URL": f"http://127.0.0.1:{port}",
                "PATCHBAY_WEBHOOK_ALLOW_PRIVATE": "true",  # the receiver is on loopback
                "PATCHBAY_WEBHOOK_DELIVERY": "true" if delivery else "false",
                "PATCHBAY_LOG_LEVEL": "WARNING",
                "PROMETHEUS_MULTIPROC_DIR": str(self.workdir / "metrics"),
            }
        )
        (self.workdir / "metrics").mkdir(exist_ok=True)
        return env

    def start_patchbay(self, *, delivery: bool) -> Server:
        port = free_port()
        say(
            f"starting patchbay serve --workers {self.args.workers} on port {port} (delivery {'on' if delivery else 'off'})"
        )
        server = Server(
            "patchbay", patchbay_command(port, self.args.workers), self.env(port, delivery=delivery), port,
            self.workdir,
        )  # fmt: skip
        self.servers.append(server.start())
        return server

    def start(self) -> tuple[Server, Receiver]:
        self.keys = Fernet.generate_key().decode()
        say(f"creating throw-away database {self.database}")
        asyncio.run(admin_sql(self.args.admin_url, f'CREATE DATABASE "{self.database}"'))
        from patchbay.migrations import upgrade

        upgrade(self.url)
        receiver = self.start_receiver()
        return self.start_patchbay(delivery=False), receiver

    def start_receiver(self) -> Receiver:
        port = free_port()
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p),
        }
        log = (self.workdir / "receiver.log").open("ab")
        proc = subprocess.Popen(
            [sys.executable, "-m", "bench.webhook_receiver", "--port", str(port)],
            env=env, cwd=self.workdir, stdout=log, stderr=log,
        )  # fmt: skip
        receiver = Receiver(f"http://127.0.0.1:{port}", proc)
        self.receivers.append(receiver)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"the receiver exited with {proc.returncode}: see {self.workdir}/receiver.log"
                )
            try:
                if httpx.get(f"{receiver.base_url}/stats", timeout=2).status_code == 200:
                    return receiver
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError("the receiver did not start")

    def stop(self) -> None:
        for server in self.servers:
            server.stop()
        for receiver in self.receivers:
            receiver.proc.terminate()
            receiver.proc.wait(timeout=10)
        asyncio.run(admin_sql(self.args.admin_url, f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'))
        say(f"dropped {self.database}")

    # --- the runs ------------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        wrk = None if self.args.python_load else ensure_wrk(install=not self.args.no_install)
        loadavg = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        server, receiver = self.start()
        boot = subprocess.run(
            [str(Path(sys.executable).with_name("patchbay")), "bootstrap", "--email", "bench@example.com", "--json"],
            env=self.env(server.port), cwd=self.workdir, capture_output=True, check=True,
        )  # fmt: skip
        created = json.loads(boot.stdout)
        auth = {"Authorization": f"Bearer {created['api_key']}"}
        base = f"{server.base_url}/api/projects/{created['project']['id']}"
        first = httpx.post(f"{base}/integrations/", json=CREATE_BODY, headers=auth, timeout=30)
        assert first.status_code == 201, first.text
        targets = {
            shape: Target(
                f"create ({shape})",
                f"{base}/integrations/",
                method="POST",
                headers={**auth, "Content-Type": "application/json"},
                body=orjson.dumps(body).decode(),
                expect_status=201,
            )  # fmt: skip
            for shape, body in SHAPES.items()
        }
        runs: dict[str, list[dict[str, Any]]] = {
            f"{mode} {shape}": [] for mode in ("without", "with") for shape in SHAPES
        }
        endpoint_id = None
        for round_ in range(self.args.rounds):
            # Alternated, and each run on a vacuumed table: the one-row upsert rewrites one row thousands
            # of times, and a run after another would otherwise pay for the dead versions it left.
            for mode in ("without", "with") if round_ % 2 == 0 else ("with", "without"):
                if mode == "with" and endpoint_id is None:
                    endpoint_id = self.create_endpoint(base, auth, receiver)
                self.set_enabled(base, auth, endpoint_id, mode == "with")
                for shape, target in targets.items():
                    asyncio.run(_vacuum(self.url))
                    say(f"round {round_ + 1}: create ({shape}) {mode} publishing ...")
                    cpu_before = _cpu_seconds(server.workers())
                    result = drive(
                        target, wrk=wrk, connections=self.args.connections, seconds=self.args.duration,
                        warmup=2.0,
                    )  # fmt: skip
                    say(f"  {result.rps:,.0f} req/s, p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms")
                    # CPU of the workers per request, warm-up included: steadier than req/s here.
                    cpu_ms = 1000 * (_cpu_seconds(server.workers()) - cpu_before) / max(1, result.requests)
                    runs[f"{mode} {shape}"].append({**result.__dict__, "cpu_ms": round(cpu_ms, 3)})
        if endpoint_id is None:
            endpoint_id = self.create_endpoint(base, auth, receiver)
        self.set_enabled(base, auth, endpoint_id, True)
        assert endpoint_id is not None
        server.stop()
        self.servers.remove(server)
        asyncio.run(_forget_events(self.url))  # the create runs' events were only there to be written
        delivering = self.start_patchbay(delivery=True)
        self.drain(receiver)

        self.results.mkdir(parents=True, exist_ok=True)
        say(f"{self.args.events:,} events at {self.args.rate}/s ...")
        spy = None
        if self.args.profile and (spy_bin := py_spy()) and delivering.workers():
            seconds = self.args.events / self.args.rate
            spy = profiling.record(
                spy_bin, delivering.workers()[0].pid, seconds, self.workdir / "delivery.raw"
            )
        workers = delivering.workers()
        cpu_before = _cpu_seconds(workers)
        offered = asyncio.run(
            offer_events(self.url, endpoint_id, created["project"]["id"], created["organization"]["id"],
                         self.args.events, self.args.rate)
        )  # fmt: skip
        delivered = self.collect(receiver, offered["offered"])
        # CPU the two workers spent (delivering, and idling between events): a cost that other load on
        # the machine does not move much, unlike the latencies.
        delivered["worker_cpu_ms_per_event"] = round(
            1000 * (_cpu_seconds(workers) - cpu_before) / max(1, delivered["unique"]), 2
        )
        if spy is not None:
            spy.wait(timeout=60)
            raw = self.workdir / "delivery.raw"
            if raw.exists():
                (self.results / "webhooks-profile-delivery.txt").write_text(profiling.summarise(raw))
        return {
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
            "environment": {
                "command": "python -m bench webhooks " + " ".join(sys.argv[2:]),
                "cpus": os.cpu_count(),
                "memory_gb": round(psutil.virtual_memory().total / 1e9, 1),
                "loadavg_before": loadavg,
                "python": platform.python_version(),
                "workers": self.args.workers,
                "load_tool": "wrk" if wrk else "bench.pyload",
                "connections": self.args.connections,
                "duration": self.args.duration,
            },
            "create": runs,
            "events": {**offered, **delivered},
        }

    def create_endpoint(self, base: str, auth: dict[str, str], receiver: Receiver) -> str:
        made = httpx.post(
            f"{base}/webhooks/",
            json={
                "url": f"{receiver.base_url}/hooks",
                "events": ["integration.created", "integration.updated"],
            },
            headers=auth,
            timeout=30,
        )
        assert made.status_code == 201, made.text
        return str(made.json()["id"])

    def set_enabled(self, base: str, auth: dict[str, str], endpoint_id: str | None, enabled: bool) -> None:
        if endpoint_id is not None:
            response = httpx.patch(
                f"{base}/webhooks/{endpoint_id}/", json={"enabled": enabled}, headers=auth, timeout=30
            )
            assert response.status_code == 200, response.text

    def drain(self, receiver: Receiver, timeout: float = 300.0) -> None:
        """Wait until nothing is pending, then forget what the receiver saw."""
        deadline = time.monotonic() + timeout
        while asyncio.run(_pending(self.url)) and time.monotonic() < deadline:
            time.sleep(0.5)
        httpx.post(f"{receiver.base_url}/reset", timeout=30)

    def collect(self, receiver: Receiver, count: int, timeout: float = 300.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        started = time.monotonic()
        stats: dict[str, Any] = {"ids": [], "latencies": []}
        while time.monotonic() < deadline:
            stats = httpx.get(f"{receiver.base_url}/stats", timeout=60).json()
            if len(set(stats["ids"])) >= count:
                break
            time.sleep(0.5)
        time.sleep(3.0)  # anything sent twice would arrive now
        stats = httpx.get(f"{receiver.base_url}/stats", timeout=60).json()
        ids = Counter(stats["ids"])
        latencies = [1000 * x for x in stats["latencies"]]
        return {
            "received": len(stats["ids"]),
            "unique": len(ids),
            "twice_or_more": sum(1 for n in ids.values() if n > 1),
            "all_delivered": len(ids) == count,
            "wait_after_offer_s": round(time.monotonic() - started - 3.0, 1),
            "latency_ms": {
                "p50": round(percentile(latencies, 50), 1),
                "p90": round(percentile(latencies, 90), 1),
                "p99": round(percentile(latencies, 99), 1),
                "max": round(max(latencies, default=0.0), 1),
            },
        }


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench webhooks", description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=250.0, help="events offered per second")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per create run")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--python-load", action="store_true")
    parser.add_argument("--no-install", action="store_true")
    parser.add_argument("--results", help="write the report here instead of bench/results/")
    parser.add_argument("--profile", action="store_true", help="py-spy one worker while it delivers")
    args = parser.parse_args(argv)
    bench = WebhookBench(args)
    try:
        data = bench.run()
    finally:
        bench.stop()
    results = bench.results
    results.mkdir(parents=True, exist_ok=True)
    (results / "webhooks.json").write_text(json.dumps(data, indent=2) + "\n")
    text = report(data)
    (results / "webhooks.md").write_text(text)
    print(text)
    return 0
