"""ProxyRecordRepository: an organization's repository reads and deletes its own records only, one
at a time; a domain is taken whoever holds it."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from patchbay.kit.pagination import PageParams
from patchbay.models import ProxyRecord
from patchbay.proxy_record.repository import ProxyRecordRepository
from patchbay.runtime import Runtime
from tests.support.factory import Factory, Tenant


async def add(runtime: Runtime, tenant: Tenant, domain: str) -> uuid.UUID:
    async with runtime.db.transaction() as session:
        row = await ProxyRecordRepository(session, tenant.organization.id).insert(
            domain=domain, target_cname=f"{domain}.proxy.test", created_by_id=tenant.user.id
        )
        return row.id


async def remaining(runtime: Runtime) -> set[uuid.UUID]:
    async with runtime.db.session() as session:
        return set((await session.scalars(select(ProxyRecord.id))).all())


async def test_every_statement_stays_in_its_organization(
    runtime: Runtime, tenant: Tenant, factory: Factory
) -> None:
    other = await factory.tenant()
    first, second = await add(runtime, tenant, "a.mine.test"), await add(runtime, tenant, "b.mine.test")
    theirs = await add(runtime, other, "a.theirs.test")

    async with runtime.db.transaction() as session:
        repo = ProxyRecordRepository(session, tenant.organization.id)
        count, page = await repo.page(params=PageParams(limit=10, offset=0))
        assert count == 2 and {r["id"] for r in page} == {first, second}
        assert {r["cb_email"] for r in page} == {tenant.user.email}
        got = await repo.get(first)
        assert got is not None and got["domain"] == "a.mine.test" and got["cb_email"] == tenant.user.email
        assert await repo.get(theirs) is None and await repo.get_model(theirs) is None
        model = await repo.get_model(second)
        assert model is not None and model.domain == "b.mine.test"
        await repo.delete(theirs)
        await repo.delete(first)
    assert await remaining(runtime) == {second, theirs}, (
        "one record deleted, the sibling and the other org's kept"
    )


async def test_a_domain_is_taken_across_organizations(
    runtime: Runtime, tenant: Tenant, factory: Factory
) -> None:
    other = await factory.tenant()
    await add(runtime, other, "shared.example.test")
    async with runtime.db.session() as session:
        repo = ProxyRecordRepository(session, tenant.organization.id)
        assert await repo.domain_taken("shared.example.test") is True
        assert await repo.domain_taken("free.example.test") is False
