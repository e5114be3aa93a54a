"""Databricks takes a hostname from the user: the address guard refuses a name that resolves (through
real DNS, the loopback server) to any internal address, and accepts a public answer."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from patchbay.app import create_app
from patchbay.models import Integration
from patchbay.runtime import Runtime, build_runtime
from tests.support.dns_server import DNSTestServer
from tests.support.factory import Factory, Tenant

REFUSED = [
    "127.0.0.1",
    "10.20.30.40",
    "172.20.0.1",
    "192.168.0.10",
    "100.100.100.200",  # CGNAT (also Alibaba Cloud's metadata address)
    "169.254.169.254",
    "169.254.10.1",
    "0.0.0.0",
    "224.0.0.251",
    "240.1.2.3",
    "::1",
    "::ffff:10.0.0.1",
    "2002:a9fe:a9fe::1",
    "fd00::1",
    "fd00:ec2::254",
    "fe80::1",
    "ff02::1",
]


@pytest.fixture(scope="module")
def zone() -> Iterator[DNSTestServer]:
    with DNSTestServer() as server:
        yield server


@pytest.fixture
async def dns_client(
    make_settings: Any, zone: DNSTestServer, runtime: Runtime
) -> AsyncIterator[tuple[httpx.AsyncClient, Tenant, Runtime]]:
    """An app whose resolver is the loopback DNS server (the `runtime` fixture empties the tables after)."""
    dns_runtime = build_runtime(make_settings(dns_nameservers=zone.address))
    try:
        tenant = await Factory(dns_runtime).tenant()
        transport = httpx.ASGITransport(app=create_app(dns_runtime.settings, dns_runtime))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client, tenant, dns_runtime
    finally:
        await dns_runtime.close()


def serve(zone: DNSTestServer, name: str, address: str) -> None:
    rtype = "A" if ipaddress.ip_address(address).version == 4 else "AAAA"
    zone.remove(name)
    zone.add(name, rtype, address)


async def create(client: httpx.AsyncClient, tenant: Tenant, host: str) -> httpx.Response:
    config = {"server_hostname": host, "client_id": "cid", "client_secret": "SENTINEL-dbx"}
    return await client.post(
        f"{tenant.base}/integrations/", json={"kind": "databricks", "config": config}, headers=tenant.headers
    )


async def count(runtime: Runtime) -> int:
    async with runtime.db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(Integration)) or 0)


@pytest.mark.parametrize("address", REFUSED)
async def test_a_hostname_resolving_inside_is_refused(
    dns_client: tuple[httpx.AsyncClient, Tenant, Runtime], zone: DNSTestServer, address: str
) -> None:
    client, tenant, runtime = dns_client
    host = "workspace.cloud.databricks.test"
    serve(zone, host, address)
    response = await create(client, tenant, host)
    assert response.status_code == 400, response.text
    assert response.json() == {
        "type": "validation_error",
        "code": "invalid_input",
        "detail": f"Databricks integration error: could not validate hostname '{host}'",
        "attr": None,
    }
    assert await count(runtime) == 0
    assert "SENTINEL" not in response.text


async def test_a_public_answer_is_accepted(
    dns_client: tuple[httpx.AsyncClient, Tenant, Runtime], zone: DNSTestServer
) -> None:
    client, tenant, runtime = dns_client
    host = "dbc-1234.cloud.databricks.test"
    serve(zone, host, "52.1.2.3")
    response = await create(client, tenant, host)
    assert response.status_code == 201, response.text
    assert response.json()["config"] == {"server_hostname": host}
    assert await count(runtime) == 1
    # The same name, once it points inside, is refused for the next connection.
    serve(zone, host, "10.0.0.9")
    assert (await create(client, tenant, host)).status_code == 400
    assert (host, "A") in zone.queries
