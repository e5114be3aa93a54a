"""WebhookRepository on its own: every statement keeps to its project, even where the service's
scoped read would already have answered 404 first."""

from __future__ import annotations

import uuid

import httpx
from sqlalchemy import select

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
