"""`python -m bench.inprocess` end to end on the test PostgreSQL: its own database, one measurement
per tree, a comparison line per tree, the database dropped. Not timed: it checks the tool works."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest

from patchbay.kit.db import driver_dsn

REPO = Path(__file__).resolve().parents[2]


async def _bench_databases(admin_url: str) -> set[str]:
    conn = await asyncpg.connect(driver_dsn(admin_url))
    try:
        rows = await conn.fetch("SELECT datname FROM pg_database WHERE datname LIKE 'patchbay_bench_%'")
    finally:
        await conn.close()
    return {row["datname"] for row in rows}


def test_inprocess_measures_each_tree_and_drops_its_database() -> None:
    admin_url = os.environ.get("PATCHBAY_TEST_POSTGRES_URL")
    if not admin_url:
        pytest.fail("PATCHBAY_TEST_POSTGRES_URL is required (CI runs PostgreSQL)")
    before = asyncio.run(_bench_databases(admin_url))
    src = str(REPO / "src")
    done = subprocess.run(
        [sys.executable, "-m", "bench.inprocess", "--admin-url", admin_url, "--requests", "40",
         "--concurrency", "4", "--repeats", "1", "--src", src, "--src", src],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    lines = [line for line in done.stdout.splitlines() if line.startswith(f"  {src}: min ")]
    assert len(lines) == 2, done.stdout
    cpu = float(lines[0].split("min ")[1].split(" µs")[0])
    assert 10 < cpu < 1_000_000, lines[0]  # a create costs some CPU, and less than a second
    assert "(1.00 × the first tree's median)" in lines[0]
    assert asyncio.run(_bench_databases(admin_url)) - before == set()


def test_a_folder_without_patchbay_is_refused_before_anything_runs(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench.inprocess", "--admin-url", "postgresql://nobody@127.0.0.1:1/x",
         "--src", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert f"--src {tmp_path}: no patchbay package there" in done.stderr
