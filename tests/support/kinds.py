"""Creating credential kinds through the API with a resolver of our own: the loopback DNS server
serves the names tests give to hosts (a public answer, a private one, loopback for a local server),
and PATCHBAY_USER_HOST_ALLOWED_NETWORKS opens only what a test says."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from patchbay.app import create_app
from patchbay.models import Integration
from patchbay.runtime import Runtime, build_runtime
from tests.support.dns_server import DNSTestServer
from tests.support.factory import Factory, Tenant

SENTINEL = "SENTINEL-secret-9f3a"


@dataclass
class KindClient:
    client: httpx.AsyncClient
    tenant: Tenant
    runtime: Runtime
    zone: DNSTestServer

    def serve(self, name: str, address: str) -> None:
        rtype = "A" if ipaddress.ip_address(address).version == 4 else "AAAA"
        self.zone.remove(name)
        self.zone.add(name, rtype, address)

    async def create(self, kind: str, config: dict[str, Any]) -> httpx.Response:
        return await self.client.post(
            f"{self.tenant.base}/integrations/", json={"kind": kind, "config": config}, headers=self.tenant.headers
        )

    async def rows(self) -> list[Integration]:
        async with self.runtime.db.session() as session:
            return list((await session.scalars(select(Integration).order_by(Integration.id))).all())

    async def count(self) -> int:
        async with self.runtime.db.session() as session:
            return int(await session.scalar(select(func.count()).select_from(Integration)) or 0)

    async def secrets(self, row: Integration) -> dict[str, Any]:
        return self.runtime.keyring.decrypt_json(row.sensitive_config)


@pytest.fixture(scope="module")
def zone() -> Iterator[DNSTestServer]:
    with DNSTestServer() as server:
        yield server


@asynccontextmanager
async def kind_client(make_settings: Callable[..., Any], zone: DNSTestServer, **overrides: Any) -> AsyncIterator[KindClient]:
    """An app on the test database whose resolver is `zone` (the `runtime` fixture empties the tables)."""
    runtime = build_runtime(make_settings(dns_nameservers=zone.address, **overrides))
    try:
        tenant = await Factory(runtime).tenant()
        transport = httpx.ASGITransport(app=create_app(runtime.settings, runtime))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield KindClient(client, tenant, runtime, zone)
    finally:
        await runtime.close()


def refusal(detail: str, attr: str | None = None) -> dict[str, Any]:
    return {"type": "validation_error", "code": "invalid_input", "detail": detail, "attr": attr}
