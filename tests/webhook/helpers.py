"""Shared by the webhook tests: endpoints made through the API, signatures checked with the
`standardwebhooks` package (the receivers' own library), and the outbox run to completion."""

from __future__ import annotations

from typing import Any

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
