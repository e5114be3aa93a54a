"""kit.db.FixedQuery: the same rows and values as SQLAlchemy Core on either backend; on PostgreSQL
outside a transaction on the driver pool, inside one on the session's connection (seeing its writes)."""

from __future__ import annotations

import asyncio
import os
import stat
import uuid
from datetime import datetime
from pathlib import Path

from sqlalchemy import bindparam, select, text, update

from patchbay.integration.repository import _GET, _PAGE
from patchbay.kit.db import Database, FixedQuery
from patchbay.migrations import upgrade
from patchbay.models import Integration
from patchbay.runtime import Runtime
from tests.support.factory import Factory, Tenant


async def test_rows_have_the_values_core_gives(runtime: Runtime, factory: Factory, tenant: Tenant) -> None:
    created = await factory.integration(
        tenant.project, "databricks", "db.example.com", {"server_hostname": "db.example.com", "n": 2**40},
        {"client_secret": "s"}, tenant.user,
    )  # fmt: skip
    params = {"project_id": tenant.project.id, "viewer_id": tenant.user.id, "pk": created.id}
    async with runtime.db.read_session() as session:
        fixed = await _GET.first(session, params)
        core = (await session.execute(_GET.statement, params)).mappings().first()
    assert fixed is not None and core is not None
    assert dict(fixed) == dict(core)
    assert isinstance(fixed["created_at"], datetime) and fixed["created_at"].utcoffset() is not None
    assert isinstance(fixed["cb_uuid"], uuid.UUID)
    assert fixed["config"] == {"server_hostname": "db.example.com", "n": 2**40}


async def test_a_page_counts_its_total(runtime: Runtime, factory: Factory, tenant: Tenant) -> None:
    for i in range(3):
        await factory.integration(tenant.project, "databricks", f"db{i}.example.com", {}, {}, tenant.user)
    values = {"project_id": tenant.project.id, "viewer_id": tenant.user.id, "_limit": 2, "_offset": 0}
    async with runtime.db.read_session() as session:
        assert isinstance(_PAGE.page, FixedQuery)
        rows = await _PAGE.page.all(session, values)
    assert [r["integration_id"] for r in rows] == ["db0.example.com", "db1.example.com"]
    assert {r["_total"] for r in rows} == {3}


async def test_inside_a_transaction_it_sees_the_sessions_own_writes(
    runtime: Runtime, factory: Factory, tenant: Tenant
) -> None:
    row = await factory.integration(tenant.project, "databricks", "db.example.com", {}, {}, tenant.user)
    params = {"project_id": tenant.project.id, "viewer_id": tenant.user.id, "pk": row.id}
    async with runtime.db.session() as session:
        await session.execute(
            update(Integration).where(Integration.id == row.id).values(errors="uncommitted")
        )
        inside = await _GET.first(session, params)
        assert inside is not None and inside["errors"] == "uncommitted"
        async with runtime.db.read_session() as other:  # another request: not yet
            outside = await _GET.first(other, params)
            assert outside is not None and outside["errors"] == ""
        await session.rollback()


async def test_statements_are_watched_on_both_paths(runtime: Runtime, tenant: Tenant) -> None:
    count = FixedQuery(select(Integration.id).where(Integration.project_id == bindparam("project_id")))
    with runtime.db.watch_statements() as seen:
        async with runtime.db.read_session() as session:
            assert list(await count.all(session, {"project_id": tenant.project.id})) == []
    assert len(seen) == 1 and "integrations" in seen[0]


async def test_a_new_sqlite_database_and_its_wal_are_owner_only(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'data' / 'fresh.db'}"
    old_umask = os.umask(0o022)  # the usual umask: files would be world-readable
    try:
        await asyncio.to_thread(upgrade, url)
        db = Database(url)
        try:
            async with db.transaction() as session:
                await session.execute(text("INSERT INTO organizations (id, name, created_at) VALUES (:id, 'o', :now)"),
                                      {"id": uuid.uuid4().hex, "now": datetime.now()})  # fmt: skip
            files = sorted(p.name for p in (tmp_path / "data").iterdir())
            assert files == ["fresh.db", "fresh.db-shm", "fresh.db-wal"]
            for name in files:
                assert stat.S_IMODE((tmp_path / "data" / name).stat().st_mode) == 0o600, name
        finally:
            await db.dispose()
    finally:
        os.umask(old_umask)
