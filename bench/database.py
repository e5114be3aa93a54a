"""The benchmark's PostgreSQL side: the throw-away database (created, migrated, dropped) and what the
runner reads from it (the list's plan, sessions opened, the server's version)."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys

import asyncpg
import orjson
from sqlalchemy.engine import make_url

from bench.baseline import LIST_SQL
from bench.log import say
from bench.seed import BENCH_PROJECT_ID
from patchbay.kit.db import SERVER_SETTINGS, driver_dsn


def default_admin_url() -> str:
    env = os.environ.get("PATCHBAY_DATABASE_URL", "")
    if env.startswith(("postgresql", "postgres:")):
        return make_url(driver_dsn(env)).set(database="postgres").render_as_string(hide_password=False)
    return "postgresql://postgres@127.0.0.1:5432/postgres"


async def admin_sql(admin_url: str, sql: str) -> None:
    """One statement on the server's admin database (CREATE DATABASE cannot run in a transaction)."""
    conn = await asyncpg.connect(driver_dsn(admin_url))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def create_throwaway_database(admin_url: str) -> tuple[str, str]:
    """A new database on the server of `admin_url`: its name and its URL."""
    name = f"patchbay_bench_{secrets.token_hex(4)}"
    say(f"creating throw-away database {name}")
    asyncio.run(admin_sql(admin_url, f'CREATE DATABASE "{name}"'))
    url = make_url(driver_dsn(admin_url)).set(database=name).render_as_string(hide_password=False)
    return name, url


def drop_throwaway_database(admin_url: str, name: str) -> None:
    asyncio.run(admin_sql(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    say(f"dropped {name}")


def migrate(url: str, src: str | None) -> None:
    say("migrating")
    if src:
        # The schema of the code under test: its own migration history, which may end earlier.
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from patchbay.migrations import upgrade; upgrade(sys.argv[1])",
                url,
            ],
            env={**os.environ, "PYTHONPATH": src},
            check=True,
        )
    else:
        from patchbay.migrations import upgrade

        upgrade(url)


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


async def sessions(url: str) -> int:
    """Sessions ever opened on the benchmark database (PostgreSQL 14+; 0 when unknown)."""
    try:
        conn = await asyncpg.connect(driver_dsn(url))
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


async def pg_version(url: str) -> str:
    conn = await asyncpg.connect(driver_dsn(url))
    try:
        return "PostgreSQL " + str(await conn.fetchval("SHOW server_version")).split()[0]
    finally:
        await conn.close()
