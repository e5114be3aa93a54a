"""Throw-away PostgreSQL databases for tests, and wiping tables between tests."""

from __future__ import annotations

import asyncio

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from patchbay.kit.db import create_engine
from patchbay.models import Base


def _dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url)
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def create_database(admin_url: str, name: str) -> str:
    async def run() -> None:
        conn = await asyncpg.connect(_dsn(admin_url))
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(run())
    return _dsn(admin_url, name)


def drop_database(admin_url: str, url: str) -> None:
    name = make_url(url).database

    async def run() -> None:
        conn = await asyncpg.connect(_dsn(admin_url))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(run())


async def truncate_all(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            tables = [t.name for t in Base.metadata.sorted_tables]
            if conn.dialect.name == "postgresql":
                await conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            else:
                for name in reversed(tables):
                    await conn.execute(text(f"DELETE FROM {name}"))
                has_seq = (
                    await conn.execute(text("SELECT name FROM sqlite_master WHERE name='sqlite_sequence'"))
                ).first()
                if has_seq:
                    await conn.execute(text("DELETE FROM sqlite_sequence"))
    finally:
        await engine.dispose()
