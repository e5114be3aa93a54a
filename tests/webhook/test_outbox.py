"""The outbox inside PostgreSQL's one-statement create (webhook.outbox.created_in_insert): the
`integration.created` event and its deliveries commit with the row in the same statement, reach
exactly the project's enabled subscribers, carry the object the API answers, and a create that has
no one to tell wakes no delivery loop. SQLite writes the same events in the session's transaction
and passes the same checks."""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import asyncpg
import httpx
from sqlalchemy import select, update

from patchbay.kit.db import driver_dsn
from patchbay.models import Integration, WebhookDelivery
from patchbay.providers.twilio import simulator as twilio
from patchbay.runtime import Runtime
from patchbay.sandbox.server import SandboxServer
from tests.integration.test_service import create_statements, databricks, warm_up
from tests.support.factory import Factory, Tenant
from tests.support.webhook_receiver import Receiver
from tests.webhook.helpers import commit_delivery, create_endpoint, deliver, verified


async def _events(runtime: Runtime) -> list[tuple[str, str]]:
    async with runtime.db.session() as session:
        rows = (await session.execute(select(WebhookDelivery.event_type, WebhookDelivery.body))).all()
    return [(r.event_type, r.body) for r in rows]


async def _deliveries(runtime: Runtime) -> list[Any]:
    async with runtime.db.session() as session:
        return list((await session.scalars(select(WebhookDelivery))).all())


async def test_a_subscribed_create_writes_its_event_with_the_row(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, receiver: Receiver, backend: str
) -> None:
    endpoint = await create_endpoint(client, tenant, receiver.url, ["integration.created"])
    await warm_up(client, tenant)
    _, body = databricks()
    with runtime.db.watch_statements() as statements:
        created = await client.post(f"{tenant.base}/integrations/", json=body, headers=tenant.headers)
    assert created.status_code == 201, created.text
    if backend == "postgresql":
        assert len(create_statements(statements)) == 1, "the row and its event's delivery in one statement"
    [(event_type, stored_body)] = await _events(runtime)
    assert event_type == "integration.created"
    [delivery] = await _deliveries(runtime)
    assert str(delivery.endpoint_id) == endpoint["id"] and delivery.status == "pending"

    await deliver(runtime)
    [received] = receiver.received
    payload = verified(received, endpoint["secret"])
    assert received.body.decode() == stored_body, "every attempt sends the body as stored"
    assert payload["type"] == "integration.created"
    assert payload["project_id"] == tenant.project.id
    assert payload["organization_id"] == str(tenant.organization.id)
    api_object = (
        await client.get(f"{tenant.base}/integrations/{created.json()['id']}/", headers=tenant.headers)
    ).json()
    assert payload["data"] == {"integration": api_object}
    assert payload["data"]["integration"] == created.json()
    assert body["config"]["client_secret"] not in received.body.decode()


async def test_only_the_projects_enabled_subscribers_hear_of_it(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, runtime: Runtime, receiver: Receiver
) -> None:
    other = await factory.tenant()
    await create_endpoint(client, other, receiver.url)  # another project's, every event
    await create_endpoint(client, tenant, receiver.url, ["integration.deleted"])  # not this event
    disabled = await create_endpoint(client, tenant, receiver.url)
    await client.patch(
        f"{tenant.base}/webhooks/{disabled['id']}/", json={"enabled": False}, headers=tenant.headers
    )
    await warm_up(client, tenant)
    _, body = databricks()
    created = await client.post(f"{tenant.base}/integrations/", json=body, headers=tenant.headers)
    assert created.status_code == 201
    assert await _events(runtime) == []
    assert await _deliveries(runtime) == []


async def test_an_updated_subscriber_hears_an_overwrite_and_a_refused_one_writes_nothing(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, runtime: Runtime, receiver: Receiver
) -> None:
    endpoint = await create_endpoint(client, tenant, receiver.url, ["integration.updated"])
    member = await factory.member_of(tenant)
    await warm_up(client, member)
    await warm_up(client, tenant)
    url = f"{tenant.base}/integrations/"
    host, body = databricks()
    first = await client.post(url, json=body, headers=tenant.headers)
    assert first.status_code == 201
    assert await _events(runtime) == [], "not subscribed to integration.created"
    refused = await client.post(url, json=body, headers=member.headers)
    assert refused.status_code == 403
    assert await _events(runtime) == []
    again = await client.post(url, json=body, headers=tenant.headers)
    assert again.status_code == 201 and again.json()["id"] == first.json()["id"]
    await deliver(runtime)
    [received] = receiver.received
    payload = verified(received, endpoint["secret"])
    assert payload["type"] == "integration.updated"
    assert payload["data"]["integration"] == again.json()
    assert payload["data"]["integration"]["config"] == {"server_hostname": host}


async def test_reconnecting_a_failing_account_recovers_it(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer, receiver: Receiver
) -> None:
    endpoint = await create_endpoint(client, tenant, receiver.url, ["*"])
    await warm_up(client, tenant)
    sid = twilio.add_account(sandbox.state, auth_token="tok")
    payload = {"kind": "twilio", "config": {"account_sid": sid, "auth_token": "tok"}}
    first = await client.post(f"{tenant.base}/integrations/", json=payload, headers=tenant.headers)
    assert first.status_code == 201 and first.json()["health"]["status"] == "healthy"
    async with runtime.db.transaction() as session:
        await session.execute(
            update(Integration)
            .where(Integration.id == first.json()["id"])
            .values(health_status="reauthorization_required", health_detail="refused")
        )
    again = await client.post(f"{tenant.base}/integrations/", json=payload, headers=tenant.headers)
    assert again.status_code == 201
    assert again.json()["health"] == {**first.json()["health"], "status": "healthy", "detail": None}
    await deliver(runtime)
    types = sorted(verified(r, endpoint["secret"])["type"] for r in receiver.received)
    assert types == ["integration.created", "integration.recovered", "integration.updated"]


async def test_a_create_with_no_delivery_wakes_no_delivery_loop(
    client: httpx.AsyncClient,
    tenant: Tenant,
    runtime: Runtime,
    receiver: Receiver,
    backend: str,
    database_url: str,
) -> None:
    """PostgreSQL's deliveries trigger (migration 0010) notifies only when a statement inserted a
    delivery: the create's statement carries an insert of deliveries that most creates leave empty."""
    if backend != "postgresql":
        return  # SQLite has no NOTIFY: its delivery loop polls
    await warm_up(client, tenant)
    heard: list[str] = []
    listener = await asyncpg.connect(driver_dsn(database_url))
    try:
        await listener.add_listener("patchbay_webhooks", lambda *args: heard.append(args[3]))
        _, body = databricks()
        assert (
            await client.post(f"{tenant.base}/integrations/", json=body, headers=tenant.headers)
        ).status_code == 201
        await asyncio.sleep(0.3)  # a notification sent at commit arrives well within this
        assert heard == []
        await create_endpoint(client, tenant, receiver.url, ["integration.created"])
        _, body = databricks()
        assert (
            await client.post(f"{tenant.base}/integrations/", json=body, headers=tenant.headers)
        ).status_code == 201
        for _ in range(50):
            if heard:
                break
            await asyncio.sleep(0.1)
        assert heard == [""]
    finally:
        await listener.close()


async def test_commits_in_a_burst_notify_once_per_20_ms(
    client: httpx.AsyncClient, tenant: Tenant, receiver: Receiver, backend: str, database_url: str
) -> None:
    """Migration 0010: the deliveries' trigger notifies at commit, and not again within 20 ms of the
    last notification (every listening backend is woken by each one); a rolled-back insert sends
    nothing, and the first commit after a quiet spell notifies at once."""
    if backend != "postgresql":
        return  # SQLite has no NOTIFY: its delivery loop polls
    endpoint = await create_endpoint(client, tenant, receiver.url, ["integration.created"])
    heard: list[float] = []
    listener = await asyncpg.connect(driver_dsn(database_url))
    writer = await asyncpg.connect(driver_dsn(database_url))
    try:
        await listener.add_listener("patchbay_webhooks", lambda *_: heard.append(time.monotonic()))
        await asyncio.sleep(0.05)  # past any window the endpoint's creation may have opened

        with contextlib.suppress(RuntimeError):
            async with writer.transaction():
                await commit_delivery(writer, tenant.project.id, endpoint["id"])  # a savepoint in here
                raise RuntimeError("rolled back")
        await asyncio.sleep(0.2)
        assert heard == []

        started = time.monotonic()
        for _ in range(10):
            await commit_delivery(writer, tenant.project.id, endpoint["id"])
        elapsed_ms = (time.monotonic() - started) * 1000
        await asyncio.sleep(0.3)  # notifications sent at commit arrive well within this
        burst = len(heard)
        assert 1 <= burst <= 1 + elapsed_ms // 20
        if elapsed_ms < 150:  # any machine but one stalled mid-burst
            assert burst < 10

        await commit_delivery(writer, tenant.project.id, endpoint["id"])
        for _ in range(30):
            if len(heard) > burst:
                break
            await asyncio.sleep(0.05)
        assert len(heard) == burst + 1
    finally:
        await listener.close()
        await writer.close()
