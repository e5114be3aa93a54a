"""On PostgreSQL: two `patchbay serve` processes on one database, 50 concurrent requests that all
need an expired Linear token -> exactly one refresh at the provider, and the rotated refresh token
is the one stored."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from patchbay.models import Integration
from patchbay.providers.linear import simulator_api as linear_api
from patchbay.runtime import build_runtime
from patchbay.sandbox.server import SandboxServer, free_port
from patchbay.simkit import oauth as _oauth
from tests.conftest import TEST_KEY
from tests.oauth.helpers import connect_over_http
from tests.support.pg import truncate_all

PATCHBAY = str(Path(sys.executable).with_name("patchbay"))


def base_env(database_url: str, sandbox: SandboxServer) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PATCHBAY_")}
    env.update(sandbox.env())
    env.update(
        {
            "PATCHBAY_DATABASE_URL": database_url,
            "PATCHBAY_ENCRYPTION_KEYS": TEST_KEY,
            "PATCHBAY_RATE_LIMIT": "off",
            "PATCHBAY_RATE_LIMIT_ANONYMOUS": "off",
            "PATCHBAY_LOG_LEVEL": "WARNING",
        }
    )
    return env


def wait_healthy(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"patchbay serve exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/_health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError("patchbay serve did not become healthy")


@pytest.fixture
def servers(
    backend: str, database_url: str, sandbox: SandboxServer, tmp_path: Path
) -> Iterator[tuple[list[str], dict[str, Any]]]:
    if backend != "postgresql":
        pytest.skip("the two-process refresh test runs on PostgreSQL")
    procs: list[subprocess.Popen[bytes]] = []
    urls: list[str] = []
    try:
        for _ in range(2):
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            env = {**base_env(database_url, sandbox), "PATCHBAY_SITE_URL": url}
            proc = subprocess.Popen(
                [PATCHBAY, "serve", "--port", str(port), "--no-refresher"],
                env=env,
                cwd=tmp_path,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            procs.append(proc)
            wait_healthy(url, proc)  # one at a time: the first one migrates
            urls.append(url)
        boot = subprocess.run(
            [PATCHBAY, "bootstrap", "--email", "race@example.com", "--json"],
            env=base_env(database_url, sandbox),
            cwd=tmp_path,
            capture_output=True,
            check=True,
        )
        yield urls, json.loads(boot.stdout)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        asyncio.run(truncate_all(database_url))


async def test_two_serve_processes_refresh_once(
    servers: tuple[list[str], dict[str, Any]], sandbox: SandboxServer, make_settings: Any
) -> None:
    urls, created = servers
    headers = {"Authorization": f"Bearer {created['api_key']}"}
    project = created["project"]["id"]
    linear_api.add_team(sandbox.state, "Engineering")
    first = urls[0]

    async with httpx.AsyncClient(timeout=30) as http:
        pk = await connect_over_http(http, first, project, "linear", headers)

        runtime = build_runtime(make_settings())
        try:
            async with runtime.db.transaction() as session:
                stored = await session.scalar(select(Integration).where(Integration.id == pk))
                assert stored is not None
                old_refresh = runtime.keyring.decrypt_json(stored.sensitive_config)["refresh_token"]
                config = {**stored.config, "refreshed_at": int(time.time()) - 3000}  # past the half-life
                await session.execute(update(Integration).where(Integration.id == pk).values(config=config))

            _oauth.set_knob(sandbox.state, "linear", "refresh_delay", 0.5)
            responses = await asyncio.gather(
                *[
                    http.get(
                        f"{urls[i % 2]}/api/projects/{project}/integrations/{pk}/linear_teams/",
                        headers=headers,
                    )
                    for i in range(50)
                ]
            )
            assert [r.status_code for r in responses] == [200] * 50, responses[0].text
            assert all(r.json()["teams"][0]["name"] == "Engineering" for r in responses)
            assert _oauth.grants(sandbox.state, "linear", "refresh_token") == 1

            async with runtime.db.session() as session:
                after = await session.scalar(select(Integration).where(Integration.id == pk))
            assert after is not None
            secrets = runtime.keyring.decrypt_json(after.sensitive_config)
            assert secrets["refresh_token"] != old_refresh
            assert secrets["refresh_token"] in sandbox.state.refresh_tokens  # the rotated one, still live
            assert old_refresh not in sandbox.state.refresh_tokens
            assert after.errors == ""
        finally:
            await runtime.close()
