"""The async database: one engine, one session factory, SQLite and PostgreSQL alike."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine


def async_url(url: str) -> str:
    if url.startswith("sqlite:"):
        return "sqlite+aiosqlite:" + url[len("sqlite:") :]
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    return url


def redacted(url: str) -> str:
    return make_url(async_url(url)).render_as_string(hide_password=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _json_loads(text: str | bytes) -> Any:
    """orjson where it can (several times faster than json on every listed config); json for what
    orjson refuses (integers beyond 64 bits), so every value reads back exactly as before."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    aurl = async_url(url)
    if aurl.startswith("sqlite"):
        engine = create_async_engine(aurl)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(
        aurl,
        # The same ceiling as pool_size + an equal overflow, all of it kept pooled: overflow connections
        # are closed on return and reopened on the next burst, and under load that churn (a new
        # PostgreSQL backend and a handshake each time) cost more than the requests themselves.
        pool_size=2 * pool_size,
        max_overflow=0,
        pool_pre_ping=False,
        json_deserializer=_json_loads,
        # random_page_cost 1.1 (PostgreSQL's default 4 assumes spinning disks): with the hot tables in
        # memory the planner then reads a page of integrations through its index and joins its creators
        # by primary key, instead of hashing the whole users table on every list.
        connect_args={
            "server_settings": {"application_name": "patchbay", "jit": "off", "random_page_cost": "1.1"}
        },
    )


class Database:
    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.engine = create_engine(url, pool_size=pool_size)
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        # No BEGIN/ROLLBACK around each request that only reads: two round trips saved on every list.
        self.read_sessionmaker = async_sessionmaker(
            self.engine.execution_options(isolation_level="AUTOCOMMIT"),
            expire_on_commit=False,
            autoflush=False,
        )

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        async with self.sessionmaker() as session:
            yield session

    @asynccontextmanager
    async def read_session(self) -> AsyncIterator[AsyncSession]:
        """Each statement commits on its own: for work that reads (and at most writes one row)."""
        async with self.read_sessionmaker() as session:
            yield session

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        async with self.sessionmaker() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()
