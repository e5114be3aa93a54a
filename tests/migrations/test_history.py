"""The one Alembic history: up to head, down to nothing and up again, on both backends; on
PostgreSQL, 0002 adds (and its downgrade removes) the auth change triggers; on SQLite, 0003 rebuilds
the integer-id tables with AUTOINCREMENT and keeps every row."""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
from alembic import command
from sqlalchemy import MetaData, delete, insert, select

from patchbay.kit.db import create_engine, driver_dsn
from patchbay.migrations import alembic_config, upgrade
from patchbay.models import Base
from tests.conftest import POSTGRES_URL
from tests.support.pg import create_database, drop_database


@pytest.fixture
def empty_database(backend: str) -> Iterator[str]:
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="patchbay-migrations-") as tmp:
            yield f"sqlite:///{Path(tmp) / 'history.db'}"
        return
    assert POSTGRES_URL
    url = create_database(POSTGRES_URL, f"patchbay_migrations_{secrets.token_hex(6)}")
    try:
        yield url
    finally:
        drop_database(POSTGRES_URL, url)


def _triggers(url: str) -> int:
    async def count() -> int:
        connection = await asyncpg.connect(driver_dsn(url))
        try:
            return int(
                await connection.fetchval(
                    "SELECT count(*) FROM pg_trigger WHERE tgname LIKE '%auth_changes%'"
                )
            )
        finally:
            await connection.close()

    return asyncio.run(count())


def test_the_history_goes_down_and_up_again(backend: str, empty_database: str) -> None:
    config = alembic_config(empty_database)
    upgrade(empty_database)
    if backend == "postgresql":
        assert _triggers(empty_database) == 5
    command.downgrade(config, "0001")
    if backend == "postgresql":
        assert _triggers(empty_database) == 0
    command.downgrade(config, "base")
    upgrade(empty_database)
    if backend == "postgresql":
        assert _triggers(empty_database) == 5


SEED_ORG = uuid.UUID("0123456789abcdef0123456789abcdef")


async def _seed(url: str) -> None:
    """Rows as a database at 0002 holds them, written with the tables' own types."""
    t = Base.metadata.tables
    now = datetime(2026, 1, 1, tzinfo=UTC)
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(insert(t["organizations"]), [{"id": SEED_ORG, "name": "o", "created_at": now}])
            await conn.execute(insert(t["projects"]), [
                {"id": i, "organization_id": SEED_ORG, "name": f"p{i}", "api_token": f"phc_{i}", "created_at": now}
                for i in (1, 2)
            ])  # fmt: skip
            await conn.execute(insert(t["users"]), [
                {"id": i, "uuid": uuid.uuid4(), "email": f"u{i}@example.com", "first_name": "", "last_name": "",
                 "distinct_id": f"d{i}", "is_email_verified": False, "is_active": True,
                 "current_organization_id": SEED_ORG, "current_project_id": 2, "created_at": now}
                for i in (1, 2)
            ])  # fmt: skip
            await conn.execute(insert(t["organization_memberships"]), [
                {"organization_id": SEED_ORG, "user_id": i, "level": 15, "created_at": now} for i in (1, 2)
            ])  # fmt: skip
            await conn.execute(insert(t["integrations"]), [
                {"project_id": 2, "kind": "twilio", "integration_id": f"AC{i}", "config": {"n": i},
                 "sensitive_config": "", "errors": "", "created_at": now, "created_by_id": 2}
                for i in (1, 2, 3)
            ])  # fmt: skip
            await conn.execute(delete(t["integrations"]).where(t["integrations"].c.integration_id == "AC3"))
    finally:
        await engine.dispose()


async def _snapshot(url: str) -> dict[str, list[tuple[object, ...]]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            # The tables of the revision the database is at, not of the models (later revisions add some).
            reflected = MetaData()
            await conn.run_sync(reflected.reflect)
            return {
                name: sorted(tuple(r) for r in (await conn.execute(select(table))).all())
                for name, table in reflected.tables.items()
                if name != "alembic_version"
            }
    finally:
        await engine.dispose()


async def _create_delete_create(url: str) -> tuple[int, int]:
    table = Base.metadata.tables["integrations"]
    row = {"project_id": 1, "kind": "twilio", "config": {}, "sensitive_config": "", "errors": "",
           "created_at": datetime.now(UTC)}  # fmt: skip
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            first = (await conn.execute(insert(table).values(integration_id="ACx", **row))).inserted_primary_key
            await conn.execute(delete(table).where(table.c.id == first[0]))
            second = (await conn.execute(insert(table).values(integration_id="ACy", **row))).inserted_primary_key
        return int(first[0]), int(second[0])
    finally:
        await engine.dispose()


def _sqlite_sequence(url: str) -> dict[str, int]:
    with sqlite3.connect(url.split("///", 1)[1]) as connection:
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
        return dict(connection.execute("SELECT name, seq FROM sqlite_sequence").fetchall())


def test_0003_keeps_every_row_and_ids_are_not_reused_after_it(backend: str, empty_database: str) -> None:
    upgrade(empty_database, "0002")
    asyncio.run(_seed(empty_database))
    before = asyncio.run(_snapshot(empty_database))
    upgrade(empty_database, "0003")
    assert asyncio.run(_snapshot(empty_database)) == before
    if backend == "sqlite":
        # The high-water mark is max(id): a table without AUTOINCREMENT kept no record of higher ids.
        assert _sqlite_sequence(empty_database) == {
            "users": 2, "projects": 2, "organization_memberships": 2, "integrations": 2,
        }  # fmt: skip
    first, second = asyncio.run(_create_delete_create(empty_database))
    assert first == (3 if backend == "sqlite" else 4)  # PostgreSQL's sequence had passed 3 already
    assert second == first + 1
