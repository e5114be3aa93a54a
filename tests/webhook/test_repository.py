"""WebhookRepository on its own: every statement keeps to its project, even where the service's
scoped read would already have answered 404 first."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import select

from patchbay.kit.pagination import PageParams
from patchbay.models import WebhookEndpoint
from patchbay.runtime import Runtime
from patchbay.webhook.repository import WebhookRepository
from tests.support.factory import Factory, Tenant
from tests.webhook.helpers import create_endpoint


async def test_a_delete_names_the_project(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, runtime: Runtime
) -> None:
    mine = await create_endpoint(client, tenant, "https://hooks.example.com/mine")
    stranger = await factory.tenant()
    theirs = await create_endpoint(client, stranger, "https://hooks.example.com/theirs")
    async with runtime.db.transaction() as session:
        await WebhookRepository(session, stranger.project.id).delete(uuid.UUID(mine["id"]))
    async with runtime.db.session() as session:
        left = set((await session.scalars(select(WebhookEndpoint.url))).all())
    assert left == {"https://hooks.example.com/mine", "https://hooks.example.com/theirs"}
    async with runtime.db.transaction() as session:
        await WebhookRepository(session, stranger.project.id).delete(uuid.UUID(theirs["id"]))
    async with runtime.db.session() as session:
        assert list((await session.scalars(select(WebhookEndpoint.url))).all()) == [
            "https://hooks.example.com/mine"
        ]


async def test_deliveries_are_the_named_endpoints_of_the_project_only(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, runtime: Runtime
) -> None:
    first = await create_endpoint(client, tenant, "https://hooks.example.com/first")
    second = await create_endpoint(client, tenant, "https://hooks.example.com/second")
    sent = []
    for endpoint in (first, second):
        answer = await client.post(f"{tenant.base}/webhooks/{endpoint['id']}/test/", headers=tenant.headers)
        assert answer.status_code == 202, answer.text
        sent.append(answer.json()["id"])
    stranger = await factory.tenant()
    params = PageParams(limit=10, offset=0)
    async with runtime.db.session() as session:
        count, rows = await WebhookRepository(session, tenant.project.id).deliveries(uuid.UUID(first["id"]), params)
        assert count == 1 and [str(row["id"]) for row in rows] == [sent[0]]
        # Another project's repository finds nothing, even given the endpoint's id.
        assert await WebhookRepository(session, stranger.project.id).deliveries(uuid.UUID(first["id"]), params) == (0, [])
