"""The outbox's schema after migration 0010: on PostgreSQL its rows carry no foreign keys (an insert
takes no lock on the endpoint or project it names), and triggers keep the cascades those keys gave.
On SQLite the foreign keys stay and give the same cascades: the checks below hold on both backends."""

from __future__ import annotations

import asyncpg
import httpx
import pytest
from sqlalchemy import delete, func, select, text

from patchbay.models import Project, WebhookDelivery, WebhookEndpoint, WebhookEvent
from patchbay.runtime import Runtime
from tests.support.factory import Factory, Tenant
from tests.webhook.helpers import commit_delivery, create_endpoint


async def _ping(client: httpx.AsyncClient, tenant: Tenant, endpoint_id: str) -> None:
    response = await client.post(f"{tenant.base}/webhooks/{endpoint_id}/test/", headers=tenant.headers)
    assert response.status_code == 202, response.text


async def _counts(runtime: Runtime) -> tuple[int, int]:
    async with runtime.db.session() as session:
        events = await session.scalar(select(func.count()).select_from(WebhookEvent))
        deliveries = await session.scalar(select(func.count()).select_from(WebhookDelivery))
    return int(events or 0), int(deliveries or 0)


async def _delete(runtime: Runtime, statement: object) -> None:
    async with runtime.db.transaction() as session:
        await session.execute(statement)  # type: ignore[call-overload]


async def test_deleting_an_endpoint_an_event_or_a_project_takes_what_hangs_on_it(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, runtime: Runtime
) -> None:
    first = await create_endpoint(client, tenant, "https://hooks.example.com/first")
    second = await create_endpoint(client, tenant, "https://hooks.example.com/second")
    for endpoint in (first, second, second):
        await _ping(client, tenant, endpoint["id"])
    other = await factory.tenant()
    theirs = await create_endpoint(client, other, "https://hooks.example.com/theirs")
    await _ping(client, other, theirs["id"])
    assert await _counts(runtime) == (4, 4)

    await _delete(runtime, delete(WebhookEndpoint).where(WebhookEndpoint.url.endswith("/first")))
    assert await _counts(runtime) == (4, 3)  # its delivery went; the event stays (as before 0010)

    async with runtime.db.session() as session:
        pinged_second = (
            await session.scalars(
                select(WebhookDelivery.event_id)
                .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
                .where(WebhookEndpoint.url.endswith("/second"))
            )
        ).first()
    await _delete(runtime, delete(WebhookEvent).where(WebhookEvent.id == pinged_second))
    assert await _counts(runtime) == (3, 2)

    await _delete(runtime, delete(Project).where(Project.id == tenant.project.id))
    assert await _counts(runtime) == (1, 1)  # only the other project's ping is left
    async with runtime.db.session() as session:
        assert (await session.scalars(select(WebhookEvent.project_id))).all() == [other.project.id]


async def test_a_delivery_insert_takes_no_lock_on_its_endpoint(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, backend: str, database_url: str
) -> None:
    """Every create of a subscribed project writes a delivery naming the same endpoint: with a
    foreign key each insert would lock that row (KEY SHARE), and concurrent lockers of one row cost
    PostgreSQL a new multixact each. Here a writer holding the endpoint's row lock does not stop it."""
    if backend != "postgresql":
        return  # SQLite has one writer at a time whatever the schema
    from patchbay.kit.db import driver_dsn

    endpoint = await create_endpoint(client, tenant, "https://hooks.example.com/locked")
    holder = await asyncpg.connect(driver_dsn(database_url))
    writer = await asyncpg.connect(driver_dsn(database_url))
    try:
        async with holder.transaction():
            await holder.execute(
                "SELECT 1 FROM webhook_endpoints WHERE id = $1::uuid FOR UPDATE", endpoint["id"]
            )
            await writer.execute("SET lock_timeout = '500ms'")
            await commit_delivery(writer, tenant.project.id, endpoint["id"])  # would time out waiting
        assert await _counts(runtime) == (1, 1)
    finally:
        await holder.close()
        await writer.close()


@pytest.mark.parametrize("table", ["webhook_deliveries", "webhook_events"])
async def test_no_foreign_key_is_left_on_postgresql(runtime: Runtime, backend: str, table: str) -> None:
    async with runtime.db.session() as session:
        if backend == "postgresql":
            query = text(
                "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conrelid = CAST(:t AS regclass)"
            )
            assert await session.scalar(query, {"t": table}) == 0
        else:
            keys = (await session.execute(text(f"PRAGMA foreign_key_list({table})"))).all()
            assert len(keys) == (2 if table == "webhook_deliveries" else 1)
