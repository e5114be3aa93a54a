"""SQL statements per request on the hot paths (issue 7): at most 3 for list and retrieve, whatever
the number of rows (no N+1), counted on the runtime's engine. Not timed: the timings are bench/'s."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from patchbay.runtime import Runtime
from tests.support.factory import Factory, Tenant

MAX_STATEMENTS = 3
_serial = itertools.count()


@contextmanager
def counted(runtime: Runtime) -> Iterator[list[str]]:
    """Every statement sent while the block runs: through SQLAlchemy and the driver pool alike."""
    with runtime.db.watch_statements() as statements:
        yield statements


async def seed(factory: Factory, tenant: Tenant, count: int) -> list[int]:
    ids = []
    for _ in range(count):
        i = next(_serial)
        row = await factory.integration(
            tenant.project,
            "databricks",
            f"db{i}.example.com",
            {"server_hostname": f"db{i}.example.com"},
            {"client_secret": "s"},
            tenant.user,
        )
        ids.append(row.id)
    return ids


async def warm_up(client: httpx.AsyncClient, tenant: Tenant) -> None:
    # The first use of a key records last_used_at (an hourly write): steady state comes after it.
    response = await client.get(f"{tenant.base}/integrations/", headers=tenant.headers)
    assert response.status_code == 200


async def test_list_uses_at_most_three_statements_whatever_the_rows(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, runtime: Runtime
) -> None:
    await warm_up(client, tenant)
    counts = {}
    for total, more in ((1, 1), (12, 11)):
        await seed(factory, tenant, more)
        with counted(runtime) as statements:
            response = await client.get(f"{tenant.base}/integrations/", headers=tenant.headers)
        assert response.status_code == 200
        assert response.json()["count"] == total
        assert len(response.json()["results"]) == total
        assert len(statements) <= MAX_STATEMENTS, statements
        counts[total] = len(statements)
    # No N+1: creators are joined, not fetched row by row.
    assert counts[1] == counts[12]


async def test_list_filtered_and_empty_pages_stay_within_three(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, runtime: Runtime
) -> None:
    await warm_up(client, tenant)
    with counted(runtime) as statements:
        response = await client.get(f"{tenant.base}/integrations/", headers=tenant.headers)
    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}
    assert len(statements) <= MAX_STATEMENTS, statements
    await seed(factory, tenant, 3)
    with counted(runtime) as statements:
        response = await client.get(
            f"{tenant.base}/integrations/?kind=databricks&limit=2", headers=tenant.headers
        )
    body = response.json()
    assert body["count"] == 3 and len(body["results"]) == 2 and body["next"] is not None
    assert len(statements) <= MAX_STATEMENTS, statements


async def test_retrieve_uses_at_most_three_statements(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, runtime: Runtime
) -> None:
    ids = await seed(factory, tenant, 5)
    await warm_up(client, tenant)
    with counted(runtime) as statements:
        response = await client.get(f"{tenant.base}/integrations/{ids[2]}/", headers=tenant.headers)
    assert response.status_code == 200
    assert response.json()["id"] == ids[2]
    assert response.json()["created_by"]["email"] == tenant.user.email
    assert len(statements) <= MAX_STATEMENTS, statements
    # The tenant filter rides in the same statements: another project's id is a 404 at the same cost.
    other = await factory.tenant()
    foreign = await seed(factory, other, 1)
    with counted(runtime) as statements:
        response = await client.get(f"{tenant.base}/integrations/{foreign[0]}/", headers=tenant.headers)
    assert response.status_code == 404
    assert len(statements) <= MAX_STATEMENTS, statements


async def test_counter_sees_statements(client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime) -> None:
    """The listener is live: a request that reaches the database is counted (guards against a
    counter that always reads zero and so passes the tests above for nothing)."""
    with counted(runtime) as statements:
        response = await client.get(f"{tenant.base}/integrations/", headers=tenant.headers)
    assert response.status_code == 200
    assert len(statements) >= 2
