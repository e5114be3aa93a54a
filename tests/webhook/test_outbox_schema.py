"""The outbox's schema: one row per delivery, carrying its event (migration 0012). On PostgreSQL the
row has no foreign key (an insert takes no lock on the endpoint it names, migration 0010) and a
trigger keeps the cascade the key gave; on SQLite the key stays. The checks hold on both backends."""

from __future__ import annotations

import asyncpg
import httpx
import orjson
from sqlalchemy import delete, select, text

from patchbay.models import Project, WebhookDelivery, WebhookEndpoint
from patchbay.runtime import Runtime
from tests.integration.test_service import databricks
from tests.support.factory import Factory, Tenant
from tests.webhook.helpers import commit_delivery, create_endpoint


async def _ping(client: httpx.AsyncClient, tenant: Tenant, endpoint_id: str) -> None:
    response = await client.post(f"{tenant.base}/webhooks/{endpoint_id}/test/", headers=tenant.headers)
    assert response.status_code == 202, response.text


async def _deliveries(runtime: Runtime) -> list[tuple[str, int]]:
    """(event id, the project in its body) of every delivery."""
    async with runtime.db.session() as session:
        rows = (await session.execute(select(WebhookDelivery.event_id, WebhookDelivery.body))).all()
    return sorted((r.event_id, int(orjson.loads(r.body)["project_id"])) for r in rows)


async def _delete(runtime: Runtime, statement: object) -> None:
    async with runtime.db.transaction() as session:
        await session.execute(statement)  # type: ignore[call-overload]


async def test_deleting_an_endpoint_or_a_project_takes_its_deliveries(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, runtime: Runtime
) -> None:
    first = await create_endpoint(client, tenant, "https://hooks.example.com/first")
    second = await create_endpoint(client, tenant, "https://hooks.example.com/second")
    for endpoint in (first, second, second):
        await _ping(client, tenant, endpoint["id"])
    other = await factory.tenant()
    theirs = await create_endpoint(client, other, "https://hooks.example.com/theirs")
    await _ping(client, other, theirs["id"])
    assert len(await _deliveries(runtime)) == 4

    await _delete(runtime, delete(WebhookEndpoint).where(WebhookEndpoint.url.endswith("/first")))
    left = await _deliveries(runtime)
    assert [project for _, project in left].count(tenant.project.id) == 2

    await _delete(runtime, delete(Project).where(Project.id == tenant.project.id))
    assert [project for _, project in await _deliveries(runtime)] == [other.project.id]


async def test_the_deliveries_of_one_event_share_its_id_and_body(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    """An event for a project with two subscribers: two rows, one `webhook-id`, the same bytes."""
    for name in ("one", "two"):
        await create_endpoint(client, tenant, f"https://hooks.example.com/{name}")
    _, body = databricks()
    created = await client.post(f"{tenant.base}/integrations/", json=body, headers=tenant.headers)
    assert created.status_code == 201, created.text
    async with runtime.db.session() as session:
        rows = (await session.execute(select(WebhookDelivery.event_id, WebhookDelivery.event_type,
                                             WebhookDelivery.body, WebhookDelivery.endpoint_id))).all()  # fmt: skip
    assert len(rows) == 2 and len({r.endpoint_id for r in rows}) == 2
    assert len({(r.event_id, r.event_type, r.body) for r in rows}) == 1
    assert orjson.loads(rows[0].body)["data"]["integration"]["id"] == created.json()["id"]


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
        assert len(await _deliveries(runtime)) == 1
    finally:
        await holder.close()
        await writer.close()


async def test_no_foreign_key_is_left_on_postgresql(runtime: Runtime, backend: str) -> None:
    async with runtime.db.session() as session:
        if backend == "postgresql":
            query = text(
                "SELECT count(*) FROM pg_constraint WHERE contype = 'f' "
                "AND conrelid = CAST('webhook_deliveries' AS regclass)"
            )
            assert await session.scalar(query) == 0
        else:
            keys = (await session.execute(text("PRAGMA foreign_key_list(webhook_deliveries)"))).all()
            assert [key.table for key in keys] == ["webhook_endpoints"]
