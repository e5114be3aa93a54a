"""Shared by the health tests: an endpoint subscribed to every event (so the outbox writes them),
the events written, and the sandbox path prefix a kind's API lives under (for fault injection)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
from sqlalchemy import select

from patchbay.config import Settings
from patchbay.models import WebhookDelivery
from patchbay.runtime import Runtime
from tests.support.factory import Tenant

HEALTH_EVENTS = (
    "integration.refresh_failed",
    "integration.reauthorization_required",
    "integration.recovered",
)


async def subscribe(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.post(
        f"{tenant.base}/webhooks/",
        json={"url": "http://127.0.0.1:9/hook", "events": ["*"]},
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text


async def health_events(runtime: Runtime) -> list[dict[str, Any]]:
    """The health events the outbox holds (one endpoint: a delivery each), oldest first, decoded."""
    async with runtime.db.session() as session:
        found = (
            await session.scalars(
                select(WebhookDelivery)
                .where(WebhookDelivery.event_type.in_(HEALTH_EVENTS))
                .order_by(WebhookDelivery.event_created_at)
            )
        ).all()
    return [orjson.loads(delivery.body) for delivery in found]


def sim_prefix(settings: Settings, kind: str) -> str:
    """The sandbox's provider key for a kind's API (its first path segment)."""
    api = settings.kind_setting(kind, "API_URL")
    assert api, kind
    return urlsplit(api).path.strip("/").split("/", 1)[0]


async def check(client: httpx.AsyncClient, tenant: Tenant, pk: int) -> dict[str, Any]:
    response = await client.post(f"{tenant.base}/integrations/{pk}/check/", headers=tenant.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
