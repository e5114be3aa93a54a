"""Shared by the tests of credential kinds (typed-in keys checked against a simulator): create
through the API, count rows, read a stored row's secrets, and an app with settings of its own."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from patchbay.app import create_app
from patchbay.models import Integration
from patchbay.runtime import Runtime, build_runtime
from tests.support.factory import Factory, Tenant

# Provider faults and the envelope each becomes: (fault, status, code).
OUTAGES = [
    ("500", 502, "provider_unavailable"),
    ("malformed", 502, "provider_unavailable"),
    ("429", 429, "provider_rate_limited"),
    ("timeout", 503, "provider_unreachable"),
]


async def create(client: httpx.AsyncClient, tenant: Tenant, kind: str, config: Any) -> httpx.Response:
    return await client.post(
        f"{tenant.base}/integrations/", json={"kind": kind, "config": config}, headers=tenant.headers
    )


async def count(client: httpx.AsyncClient, tenant: Tenant) -> int:
    response = await client.get(f"{tenant.base}/integrations/", headers=tenant.headers)
    return int(response.json()["count"])


async def stored(runtime: Runtime, pk: int) -> tuple[Integration, dict[str, Any]]:
    """The row and its decrypted secrets; the secrets column must not hold them in clear."""
    async with runtime.db.session() as session:
        row = await session.get(Integration, pk)
    assert row is not None
    secrets: dict[str, Any] = runtime.keyring.decrypt_json(row.sensitive_config)
    for value in secrets.values():
        assert str(value) not in row.sensitive_config, "stored encrypted"
    return row, secrets


def assert_envelope(response: httpx.Response, status: int, detail: str | None = None, attr: Any = "unset") -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"type", "code", "detail", "attr"}
    if detail is not None:
        assert body["detail"] == detail
    if attr != "unset":
        assert body["attr"] == attr


@asynccontextmanager
async def app_with(make_settings: Any, **overrides: Any) -> AsyncIterator[tuple[httpx.AsyncClient, Tenant]]:
    """A second app on the same database with settings of its own (the `runtime` fixture, which
    the caller requests too, empties the tables afterwards)."""
    runtime = build_runtime(make_settings(**overrides))
    try:
        tenant = await Factory(runtime).tenant()
        transport = httpx.ASGITransport(app=create_app(runtime.settings, runtime))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client, tenant
    finally:
        await runtime.close()
