"""At least once, never lost, never twice at once: a `patchbay serve` killed with SIGKILL while
deliveries are pending delivers them after a restart; two delivery loops on one PostgreSQL never
send the same attempt twice."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from patchbay.models import WebhookDelivery
from patchbay.runtime import Runtime, build_runtime
from patchbay.sandbox.server import SandboxServer, free_port
from patchbay.webhook.delivery import DeliveryLoop
from patchbay.webhook.outbox import PING, publish
from tests.oauth.test_two_processes import PATCHBAY, base_env, wait_healthy
from tests.support.factory import Tenant
from tests.support.webhook_receiver import Receiver
from tests.webhook.helpers import create_endpoint, deliveries, signed_by

PINGS = 20


def start_serve(env: dict[str, str], cwd: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [PATCHBAY, "serve", "--port", str(port), "--no-refresher"],
        env={**env, "PATCHBAY_SITE_URL": url},
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_healthy(url, proc)
    return proc, url


async def _attempted(runtime: Runtime) -> bool:
    async with runtime.db.session() as session:
        return bool(await session.scalar(select(func.count()).where(WebhookDelivery.attempts > 0)))


async def test_kill_9_with_pending_deliveries_loses_nothing(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, database_url: str, sandbox: SandboxServer,
    tmp_path: Path,
) -> None:  # fmt: skip
    receiver = Receiver()  # not listening yet: every attempt is refused
    endpoint = await create_endpoint(client, tenant, receiver.url)
    queued = []
    for _ in range(PINGS):  # queued by this process, which runs no delivery loop
        response = await client.post(f"{tenant.base}/webhooks/{endpoint['id']}/test/", headers=tenant.headers)
        queued.append(response.json()["event_id"])
    env = {
        **base_env(database_url, sandbox),
        "PATCHBAY_WEBHOOK_ALLOW_PRIVATE": "true",
        "PATCHBAY_WEBHOOK_RETRY_SCHEDULE": ",".join(["0.5"] * 40),
        "PATCHBAY_WEBHOOK_TIMEOUT": "2",
    }
    procs: list[subprocess.Popen[bytes]] = []
    try:
        proc, _ = await asyncio.to_thread(start_serve, env, tmp_path)
        procs.append(proc)
        for _ in range(100):  # the server's loop tries, is refused, schedules retries
            if await _attempted(runtime):
                break
            await asyncio.sleep(0.1)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        assert await _attempted(runtime)
        assert receiver.received == []

        receiver.start()
        restarted, _ = await asyncio.to_thread(start_serve, env, tmp_path)
        procs.append(restarted)
        received = await asyncio.to_thread(receiver.wait_for, PINGS, 30.0)
        assert {r.headers["webhook-id"] for r in received} == set(queued)
        assert all(signed_by(r, endpoint["secret"]) for r in received)
        for _ in range(50):  # the last outcomes are recorded just after the receiver answers
            listed = await deliveries(client, tenant, endpoint["id"])
            if all(d["status"] == "succeeded" for d in listed):
                break
            await asyncio.sleep(0.1)
        assert len(listed) == PINGS and all(d["status"] == "succeeded" for d in listed)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(timeout=10)
        receiver.stop()


async def test_two_loops_on_one_postgresql_never_send_an_attempt_twice(
    backend: str, client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, make_settings: Any,
    receiver: Receiver,
) -> None:  # fmt: skip
    if backend != "postgresql":
        pytest.skip("SKIP LOCKED claims across processes: PostgreSQL")
    endpoint = await create_endpoint(client, tenant, receiver.url)
    receiver.delay = 0.005
    target = {
        "id": endpoint["id"],
        "project_id": tenant.project.id,
        "organization_id": tenant.organization.id,
    }
    async with runtime.db.transaction() as session:
        for _ in range(200):
            await publish(session, PING, {"webhook": {"id": endpoint["id"]}}, [target])

    other = build_runtime(runtime.settings)
    loops = [DeliveryLoop(runtime), DeliveryLoop(other)]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(loop.run(stop)) for loop in loops]
    try:
        await asyncio.to_thread(receiver.wait_for, 200, 60.0)
        await asyncio.sleep(0.5)  # anything sent twice would arrive now
    finally:
        stop.set()
        await asyncio.gather(*tasks)
        await other.close()
    ids = Counter(r.headers["webhook-id"] for r in receiver.received)
    assert len(ids) == 200 and set(ids.values()) == {1}, [loop.started for loop in loops]
    assert sum(loop.started for loop in loops) == 200
    async with runtime.db.session() as session:
        rows = (await session.execute(select(WebhookDelivery.status, WebhookDelivery.attempts))).all()
    assert len(rows) == 200 and set(rows) == {("succeeded", 1)}
