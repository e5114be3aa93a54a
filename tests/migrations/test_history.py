"""The one Alembic history: up to head, down to nothing and up again, on both backends; on
PostgreSQL, 0002 adds (and its downgrade removes) the auth change triggers."""

from __future__ import annotations

import asyncio
import secrets
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest
from alembic import command

from patchbay.kit.db import driver_dsn
from patchbay.migrations import alembic_config, upgrade
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
