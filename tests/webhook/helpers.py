"""Shared by the webhook tests: endpoints made through the API, signatures checked with the
`standardwebhooks` package (the receivers' own library), and the outbox run to completion."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg
import httpx
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from patchbay.runtime import Runtime
from patchbay.webhook.delivery import deliver_due
from tests.support.factory import Tenant
from tests.support.webhook_receiver import Received


async def create_endpoint(
    client: httpx.AsyncClient, tenant: Tenant, url: str, events: list[str] | None = None
) -> dict[str, Any]:
    response = await client.post(
        f"{tenant.base}/webhooks/",
        json={"url": url, "events": events or ["*"], "description": "test receiver"},
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def verified(received: Received, secret: str) -> dict[str, Any]:
    """The payload, after standardwebhooks accepted the signature (raises otherwise)."""
    payload: dict[str, Any] = Webhook(secret).verify(received.body, received.headers)
    return payload


def signed_by(received: Received, secret: str) -> bool:
    try:
        Webhook(secret).verify(received.body, received.headers)
    except WebhookVerificationError:
        return False
    return True


async def deliver(runtime: Runtime) -> None:
    await deliver_due(runtime)


async def deliveries(client: httpx.AsyncClient, tenant: Tenant, endpoint_id: str) -> list[dict[str, Any]]:
    response = await client.get(f"{tenant.base}/webhooks/{endpoint_id}/deliveries/", headers=tenant.headers)
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    return results


async def commit_delivery(
    connection: asyncpg.Connection, project_id: int, endpoint_id: str, *, silent: bool = False
) -> str:
    """Commit a pending delivery of a new event to `endpoint_id` in one transaction of raw SQL, as any
    writer could (PostgreSQL). `silent`: the notification clock (migration 0010) is set to now just
    before the commit, so that the trigger takes it for a commit that has just notified."""
    event_id = f"evt_{uuid.uuid4().hex}"
    async with connection.transaction():
        await connection.execute(
            "INSERT INTO webhook_deliveries (id, event_id, event_type, body, event_created_at, endpoint_id, "
            "status, attempts, last_error, next_attempt_at, created_at) "
            "VALUES ($1, $2, 'ping', $3, now(), $4, 'pending', 0, '', now(), now())",
            uuid.uuid4(),
            event_id,
            json.dumps({"id": event_id, "type": "ping", "project_id": project_id}),
            uuid.UUID(endpoint_id),
        )
        if silent:
            await connection.execute(
                "SELECT setval('webhook_notified_at_ms', (extract(epoch FROM clock_timestamp()) * 1000)::bigint)"
            )
    return event_id
