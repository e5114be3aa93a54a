"""The delivery loop against a real receiver on loopback: signatures the `standardwebhooks` package
accepts, retries with one webhook-id, 410 and three days of failures disabling an endpoint, secret
rotation's overlap, redelivery, pruning."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import select, update

from patchbay.app import create_app
from patchbay.kit.db import driver_dsn
from patchbay.models import WebhookDelivery, WebhookEndpoint
from patchbay.runtime import Runtime, build_runtime
from patchbay.webhook.delivery import POLL_INTERVAL, RECHECK_AFTER, DeliveryLoop, retry_delay
from tests.support.factory import Tenant
from tests.support.webhook_receiver import Receiver
from tests.webhook.helpers import (
    commit_delivery,
    create_endpoint,
    deliver,
    deliveries,
    signed_by,
    verified,
)

DELIVERY_FIELDS = [
    "id", "event_id", "event_type", "status", "attempts", "last_status_code", "last_error", "next_attempt_at",
    "created_at", "delivered_at",
]  # fmt: skip


async def ping(client: httpx.AsyncClient, tenant: Tenant, endpoint_id: str) -> dict[str, object]:
    response = await client.post(f"{tenant.base}/webhooks/{endpoint_id}/test/", headers=tenant.headers)
    assert response.status_code == 202, response.text
    body: dict[str, object] = response.json()
    return body


async def test_ping_is_signed_and_delivered(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, receiver: Receiver
) -> None:
    endpoint = await create_endpoint(client, tenant, receiver.url, ["integration.created"])
    queued = await ping(client, tenant, endpoint["id"])
    assert list(queued) == DELIVERY_FIELDS
    assert queued["status"] == "pending" and queued["attempts"] == 0 and queued["event_type"] == "ping"

    await deliver(runtime)
    (received,) = receiver.received
    payload = verified(received, endpoint["secret"])
    assert list(payload) == ["id", "type", "created_at", "project_id", "organization_id", "data"]
    assert payload["id"] == received.headers["webhook-id"] == queued["event_id"]
    assert payload["type"] == "ping" and payload["data"] == {"webhook": {"id": endpoint["id"]}}
    assert payload["project_id"] == tenant.project.id
    assert payload["organization_id"] == str(tenant.organization.id)
    assert received.headers["content-type"] == "application/json"

    (done,) = await deliveries(client, tenant, endpoint["id"])
    assert done["id"] == queued["id"] and done["status"] == "succeeded" and done["attempts"] == 1
    assert done["last_status_code"] == 200 and done["delivered_at"] and done["next_attempt_at"] is None


async def test_failures_are_retried_with_one_webhook_id(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, receiver: Receiver
) -> None:
    endpoint = await create_endpoint(client, tenant, receiver.url)
    receiver.statuses = [500, 301, 429]  # anything but a 2xx is a failure, redirects included
    await ping(client, tenant, endpoint["id"])
    await deliver(runtime)
    assert len(receiver.received) == 4
    assert len({r.headers["webhook-id"] for r in receiver.received}) == 1
    assert all(signed_by(r, endpoint["secret"]) for r in receiver.received)
    (done,) = await deliveries(client, tenant, endpoint["id"])
    assert done["status"] == "succeeded" and done["attempts"] == 4 and done["last_error"] == ""
    async with runtime.db.session() as session:
        row = await session.scalar(select(WebhookEndpoint))
    assert row is not None and row.failing_since is None  # the success ended the failure streak


async def test_a_spent_schedule_marks_the_delivery_failed(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, receiver: Receiver
) -> None:
    endpoint = await create_endpoint(client, tenant, receiver.url)
    receiver.statuses = [500] * 10
    await ping(client, tenant, endpoint["id"])
    await deliver(runtime)
    assert len(receiver.received) == 4  # the first attempt and the schedule's three retries
    (done,) = await deliveries(client, tenant, endpoint["id"])
    assert done["status"] == "failed" and done["attempts"] == 4 and done["next_attempt_at"] is None
    assert done["last_status_code"] == 500 and done["last_error"] == "The endpoint answered 500."
    # A failure streak started, but three days have not passed: still enabled.
    got = await client.get(f"{tenant.base}/webhooks/{endpoint['id']}/", headers=tenant.headers)
    assert got.json()["enabled"] is True


async def test_an_unreachable_receiver_is_retried_later(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, receiver: Receiver
) -> None:
    endpoint = await create_endpoint(client, tenant, receiver.url)
    receiver.stop()
    await ping(client, tenant, endpoint["id"])
    loop = DeliveryLoop(runtime)
    loop.delays = [60.0]
    try:
        await loop.step()
        await asyncio.gather(*list(loop.in_flight))
    finally:
        await loop.client.aclose()
    (pending,) = await deliveries(client, tenant, endpoint["id"])
    assert pending["status"] == "pending" and pending["attempts"] == 1
    assert pending["last_status_code"] is None and "could not be reached" in pending["last_error"]
    due = datetime.fromisoformat(str(pending["next_attempt_at"]).replace("Z", "+00:00"))
    assert timedelta(seconds=40) < due - datetime.now(UTC) < timedelta(seconds=80)  # 60 s ±20 %


def test_retry_delays_follow_the_schedule_with_jitter() -> None:
    delays = [5.0, 30.0, 120.0]
    for attempts, scheduled in enumerate(delays, start=1):
        seen = {retry_delay(delays, attempts) for _ in range(50)}
        assert all(d is not None and scheduled * 0.8 <= d <= scheduled * 1.2 for d in seen)
        assert len(seen) > 1  # jittered, not fixed
    assert retry_delay(delays, 4) is None


async def test_410_disables_the_endpoint(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, receiver: Receiver
) -> None:
    endpoint = await create_endpoint(client, tenant, receiver.url)
    receiver.statuses = [410]
    await ping(client, tenant, endpoint["id"])
    await deliver(runtime)
    assert len(receiver.received) == 1
    url = f"{tenant.base}/webhooks/{endpoint['id']}/"
    got = (await client.get(url, headers=tenant.headers)).json()
    assert got["enabled"] is False and "410 Gone" in got["disabled_reason"]
    (done,) = await deliveries(client, tenant, endpoint["id"])
    assert done["status"] == "failed" and done["last_status_code"] == 410

    refused = await client.post(f"{url}test/", headers=tenant.headers)
    assert refused.status_code == 400 and "disabled" in refused.json()["detail"]
    enabled = await client.patch(url, json={"enabled": True}, headers=tenant.headers)
    assert enabled.json()["enabled"] is True and enabled.json()["disabled_reason"] is None


async def test_three_days_of_failures_disable_the_endpoint(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, receiver: Receiver
) -> None:
    endpoint = await create_endpoint(client, tenant, receiver.url)
    async with runtime.db.transaction() as session:
        await session.execute(
            update(WebhookEndpoint).values(failing_since=datetime.now(UTC) - timedelta(days=3, minutes=1))
        )
    receiver.statuses = [502]
    await ping(client, tenant, endpoint["id"])
    await deliver(runtime)
    assert len(receiver.received) == 1  # disabled at once: no retry goes out
    got = (await client.get(f"{tenant.base}/webhooks/{endpoint['id']}/", headers=tenant.headers)).json()
    assert got["enabled"] is False
    assert "failing for 3 days" in got["disabled_reason"] and "answered 502" in got["disabled_reason"]


async def test_rotation_signs_with_both_secrets_for_a_day(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, receiver: Receiver
) -> None:
    endpoint = await create_endpoint(client, tenant, receiver.url)
    old = endpoint["secret"]
    rotated = await client.post(
        f"{tenant.base}/webhooks/{endpoint['id']}/rotate-secret/", headers=tenant.headers
    )
    assert rotated.status_code == 200, rotated.text
    new = rotated.json()["secret"]
    assert new.startswith("whsec_") and new != old

    await ping(client, tenant, endpoint["id"])
    await deliver(runtime)
    (during,) = receiver.received
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    assert signed_by(during, new) and signed_by(during, old)

    async with runtime.db.transaction() as session:  # 24 hours later
        await session.execute(
            update(WebhookEndpoint).values(
                previous_secret_expires_at=datetime.now(UTC) - timedelta(seconds=1)
            )
        )
    await ping(client, tenant, endpoint["id"])
    await deliver(runtime)
    after = receiver.received[1]
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    assert signed_by(after, new) and not signed_by(after, old)


async def test_redeliver_sends_the_same_event_again(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, receiver: Receiver
) -> None:
    endpoint = await create_endpoint(client, tenant, receiver.url)
    first = await ping(client, tenant, endpoint["id"])
    await deliver(runtime)
    again = await client.post(
        f"{tenant.base}/webhooks/{endpoint['id']}/deliveries/{first['id']}/redeliver/", headers=tenant.headers
    )
    assert again.status_code == 202, again.text
    assert again.json()["event_id"] == first["event_id"] and again.json()["id"] != first["id"]
    await deliver(runtime)
    assert [r.headers["webhook-id"] for r in receiver.received] == [first["event_id"]] * 2
    assert receiver.received[0].body == receiver.received[1].body
    listed = await deliveries(client, tenant, endpoint["id"])
    assert [d["id"] for d in listed] == [again.json()["id"], first["id"]]  # newest first
    missing = await client.post(
        f"{tenant.base}/webhooks/{endpoint['id']}/deliveries/00000000-0000-0000-0000-000000000000/redeliver/",
        headers=tenant.headers,
    )
    assert missing.status_code == 404


async def test_events_and_deliveries_are_pruned_after_30_days(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, receiver: Receiver
) -> None:
    endpoint = await create_endpoint(client, tenant, receiver.url)
    old = await ping(client, tenant, endpoint["id"])
    recent = await ping(client, tenant, endpoint["id"])
    await deliver(runtime)
    async with runtime.db.transaction() as session:
        month_ago = datetime.now(UTC) - timedelta(days=31)
        await session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.event_id == old["event_id"])
            .values(event_created_at=month_ago, created_at=month_ago)
        )
    loop = DeliveryLoop(runtime)
    try:
        await loop.maintain()
    finally:
        await loop.client.aclose()
    async with runtime.db.session() as session:
        left = list((await session.scalars(select(WebhookDelivery.event_id))).all())
    assert left == [recent["event_id"]]


@pytest.mark.parametrize("enabled", [True, False])
async def test_the_app_runs_the_delivery_loop_unless_turned_off(
    client: httpx.AsyncClient, tenant: Tenant, make_settings: Any, receiver: Receiver, enabled: bool
) -> None:
    endpoint = await create_endpoint(client, tenant, receiver.url)
    await ping(client, tenant, endpoint["id"])
    settings = make_settings(webhook_allow_private=True, webhook_delivery=enabled)
    served = create_app(settings, build_runtime(settings))
    async with served.router.lifespan_context(served):
        for _ in range(100):
            if receiver.received:
                break
            await asyncio.sleep(0.05)
    assert len(receiver.received) == (1 if enabled else 0)


async def test_a_delivery_committed_without_a_notification_is_claimed_soon_after_one(
    client: httpx.AsyncClient,
    tenant: Tenant,
    runtime: Runtime,
    receiver: Receiver,
    backend: str,
    database_url: str,
) -> None:
    """PostgreSQL notifies at most once per 20 ms (migration 0010): a delivery committed just after a
    notification sends none, and may commit after the claim that notification caused. The loop claims
    again RECHECK_AFTER later, so it goes out then, not at the next poll seconds later."""
    if backend != "postgresql":
        return  # SQLite has no NOTIFY: its delivery loop polls
    endpoint = await create_endpoint(client, tenant, receiver.url)
    loop = DeliveryLoop(runtime)
    stop = asyncio.Event()
    running = asyncio.create_task(loop.run(stop))
    writer = await asyncpg.connect(driver_dsn(database_url))
    try:
        await asyncio.sleep(0.3)  # the loop's first claim, after its LISTEN is in place
        await writer.execute("SELECT pg_notify('patchbay_webhooks', '')")
        for _ in range(40):
            if loop.recheck_at is not None:
                break
            await asyncio.sleep(0.005)
        assert loop.recheck_at is not None  # woken: its claim found nothing
        await asyncio.sleep(0.02)
        committed = time.monotonic()
        await commit_delivery(writer, tenant.project.id, endpoint["id"], silent=True)
        for _ in range(int(POLL_INTERVAL / 0.01)):
            if receiver.received:
                break
            await asyncio.sleep(0.01)
        assert receiver.received
        assert time.monotonic() - committed < RECHECK_AFTER + 0.5 < POLL_INTERVAL
    finally:
        stop.set()
        await running
        await writer.close()
