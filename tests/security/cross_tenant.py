"""Shared by the cross-tenant write tests: three callers acting on the same provider account — the
owner of organization A (project A1), an admin of A in a second project (A2), and the owner of
organization B — and a snapshot of every stored field of a row, secrets decrypted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy import select

from patchbay.models import Integration, MembershipLevel
from patchbay.runtime import Runtime
from tests.support.factory import Factory, Tenant


@dataclass
class Callers:
    a1: Tenant
    a2: Tenant
    b: Tenant

    def all(self) -> list[Tenant]:
        return [self.a1, self.a2, self.b]


async def callers(factory: Factory) -> Callers:
    a1 = await factory.tenant()
    admin = await factory.user()
    await factory.member(a1.organization, admin, MembershipLevel.ADMIN)
    project = await factory.project(a1.organization, current_for=admin)
    key = await factory.key(admin)
    a2 = Tenant(admin, a1.organization, project, key, {"Authorization": f"Bearer {key}"})
    return Callers(a1, a2, await factory.tenant())


async def snapshot(runtime: Runtime, pk: int) -> dict[str, Any]:
    """Everything stored about one integration, its secrets decrypted with the runtime's key ring."""
    async with runtime.db.session() as session:
        row = await session.scalar(select(Integration).where(Integration.id == pk))
    assert row is not None, f"integration {pk} is gone"
    return {
        "id": row.id,
        "project_id": row.project_id,
        "kind": row.kind,
        "integration_id": row.integration_id,
        "config": row.config,
        "secrets": runtime.keyring.decrypt_json(row.sensitive_config),
        "errors": row.errors,
        "created_by_id": row.created_by_id,
    }


async def rows_of(runtime: Runtime, kind: str, integration_id: str) -> list[Integration]:
    async with runtime.db.session() as session:
        stmt = select(Integration).where(
            Integration.kind == kind, Integration.integration_id == integration_id
        )
        return list((await session.scalars(stmt.order_by(Integration.id))).all())


async def assert_unchanged(runtime: Runtime, owned: dict[int, tuple[Tenant, dict[str, Any]]]) -> None:
    """Every row made so far is exactly as its caller left it."""
    for pk, (_, before) in owned.items():
        assert await snapshot(runtime, pk) == before, f"integration {pk} was changed by another caller"


async def assert_each_keeps_its_own(
    client: httpx.AsyncClient,
    runtime: Runtime,
    owned: dict[int, tuple[Tenant, dict[str, Any]]],
    kind: str,
) -> None:
    """`owned`: integration id -> (the caller that made it, its snapshot right after). Every row is
    still as its caller left it, lies in its caller's project, and only its caller sees it."""
    assert len({tenant.project.id for tenant, _ in owned.values()}) == len(owned), "one row per project"
    await assert_unchanged(runtime, owned)
    for pk, (tenant, before) in owned.items():
        assert before["project_id"] == tenant.project.id and before["created_by_id"] == tenant.user.id
        listed = await client.get(
            f"{tenant.base}/integrations/", params={"kind": kind}, headers=tenant.headers
        )
        assert listed.status_code == 200
        body = listed.json()
        assert body["count"] == 1 and [r["id"] for r in body["results"]] == [pk]
        assert body["results"][0]["created_by"]["id"] == tenant.user.id
        for other in owned:
            if other != pk:
                foreign = await client.get(f"{tenant.base}/integrations/{other}/", headers=tenant.headers)
                assert foreign.status_code == 404, foreign.text
