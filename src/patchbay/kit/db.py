"""The async database: one engine, one session factory, SQLite and PostgreSQL alike."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import orjson
from sqlalchemy import Select, event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from patchbay.kit.driver import DriverPool

# A selected row as repositories hand it to services: a RowMapping from Core, a Record from asyncpg.
Row = Mapping[Any, Any]


def async_url(url: str) -> str:
    if url.startswith("sqlite:"):
        return "sqlite+aiosqlite:" + url[len("sqlite:") :]
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    return url


def driver_dsn(url: str) -> str:
    """The PostgreSQL URL as asyncpg itself takes it (postgresql://), whatever form was configured."""
    return make_url(async_url(url)).set(drivername="postgresql").render_as_string(hide_password=False)


def redacted(url: str) -> str:
    return make_url(async_url(url)).render_as_string(hide_password=True)


# What PostgreSQL going away looks like from here: refused or reset sockets, asyncpg's connection
# errors (a connection the server terminated, "the database system is starting up", an admin
# shutdown, no connection slot left), timeouts, and SQLAlchemy's wrappings of them (a pool timeout
# included).
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    ConnectionError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,
    # A pooled connection broken mid-use ("cannot switch to state ...; another operation is in
    # progress"): the pool drops it on release.
    asyncpg.exceptions.InternalClientError,
    # "sorry, too many clients already" (or a role's own limit): the server is full, not broken.
    asyncpg.exceptions.TooManyConnectionsError,
    sa_exc.TimeoutError,
)


def database_unavailable(exc: BaseException) -> bool:
    """True when `exc` says the database cannot be reached now (503), not that a statement is wrong."""
    seen = 0
    current: BaseException | None = exc
    while current is not None and seen < 8:
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, _UNAVAILABLE):
            return True
        if isinstance(current, sa_exc.StatementError):
            current = current.orig
        else:
            current = current.__cause__ or current.__context__
        seen += 1
    return False


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


# random_page_cost 1.1 (PostgreSQL's default 4 assumes spinning disks): with the hot tables in memory
# the planner then reads a page of integrations through its index and joins its creators by primary
# key, instead of hashing the whole users table on every list.
SERVER_SETTINGS = {"application_name": "patchbay", "jit": "off", "random_page_cost": "1.1"}


def create_private_sqlite_file(url: str) -> None:
    """Create a SQLite database file owner-only (0600) before SQLite does (it would follow the umask,
    usually world-readable). SQLite gives the -wal and -shm files the database file's mode."""
    database = make_url(async_url(url)).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass  # another process created it first


@dataclass(frozen=True)
class Timeouts:
    """How long a request may wait on PostgreSQL before it answers 503 (docs/reliability.md): a new
    connection, a free pooled connection, one statement. Without them an outage hangs requests."""

    connect: float = 2.0
    pool: float = 5.0
    statement: float = 30.0


def create_engine(url: str, *, pool_size: int = 10, timeouts: Timeouts | None = None) -> AsyncEngine:
    timeouts = timeouts or Timeouts()
    aurl = async_url(url)
    if aurl.startswith("sqlite"):
        create_private_sqlite_file(url)
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
        # No ping per checkout (a round trip on every request): a connection found dead raises a
        # disconnect error, and SQLAlchemy then invalidates the whole pool, so after a PostgreSQL
        # restart every stale connection is replaced on its next checkout.
        pool_pre_ping=False,
        pool_timeout=timeouts.pool,
        json_deserializer=_json_loads,
        connect_args={
            "server_settings": SERVER_SETTINGS,
            "timeout": timeouts.connect,
            "command_timeout": timeouts.statement,
        },
    )


class Database:
    def __init__(self, url: str, *, pool_size: int = 10, timeouts: Timeouts | None = None) -> None:
        self.url = url
        self.timeouts = timeouts or Timeouts()
        self.engine = create_engine(url, pool_size=pool_size, timeouts=self.timeouts)
        # Sessions know their database, so a FixedQuery can reach the driver pool from a session.
        info = {"database": self}
        self.sessionmaker = async_sessionmaker(
            self.engine, expire_on_commit=False, autoflush=False, info=info
        )
        # No BEGIN/ROLLBACK around each request that only reads: two round trips saved on every list.
        self.read_sessionmaker = async_sessionmaker(
            self.engine.execution_options(isolation_level="AUTOCOMMIT"),
            expire_on_commit=False,
            autoflush=False,
            info=info,
        )
        self.driver: DriverPool | None = None
        if not self.is_sqlite:
            self.driver = DriverPool(
                driver_dsn(url),
                size=2 * pool_size,
                server_settings=SERVER_SETTINGS,
                json_loads=_json_loads,
                timeouts=(self.timeouts.connect, self.timeouts.pool, self.timeouts.statement),
            )
        self._statement_watchers: list[list[str]] = []

    @contextmanager
    def watch_statements(self) -> Iterator[list[str]]:
        """Every SQL statement sent while the block runs, through SQLAlchemy or the driver pool."""
        seen: list[str] = []

        def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            seen.append(statement)

        event.listen(self.engine.sync_engine, "before_cursor_execute", record)
        self._statement_watchers.append(seen)
        try:
            yield seen
        finally:
            self._statement_watchers.remove(seen)
            event.remove(self.engine.sync_engine, "before_cursor_execute", record)

    def note_driver_statement(self, sql: str) -> None:
        for seen in self._statement_watchers:
            seen.append(sql)

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
        if self.driver is not None:
            await self.driver.close()
        await self.engine.dispose()


class FixedQuery:
    """A SELECT built once at import, with named bound parameters of plain Python types.

    On PostgreSQL it skips SQLAlchemy's per-statement execution and row processing, which on the hot
    reads cost more CPU than the query: compiled once per process, it runs straight on asyncpg (which
    prepares it once per connection) — on the session's connection when the session has a transaction
    open (it sees the session's own writes), else on the driver pool, so a read-only request never
    checks a connection out of SQLAlchemy's pool. Elsewhere it runs through Core. Rows are mappings
    with the same values either way (asyncpg gives aware UTC datetimes; JSON decodes alike).
    """

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self._compiled: tuple[str, tuple[str, ...]] | None = None

    def _postgresql_sql(self, dialect: Dialect) -> tuple[str, tuple[str, ...]]:
        if self._compiled is None:
            compiled = self.statement.compile(dialect=dialect)
            self._compiled = (str(compiled), tuple(compiled.positiontup or ()))
        return self._compiled

    async def all(self, session: AsyncSession, params: Mapping[str, Any]) -> Sequence[Row]:
        db: Database | None = session.info.get("database")
        if db is None or db.driver is None:
            return (await session.execute(self.statement, dict(params))).mappings().all()
        sql, names = self._postgresql_sql(db.engine.dialect)
        args = [params[name] for name in names]
        db.note_driver_statement(sql)
        if session.in_transaction():
            # If the session has begun but sent nothing yet, asyncpg has no BEGIN open either and
            # this runs on its own: at READ COMMITTED, with no earlier write, that reads the same.
            conn = await session.connection()
            raw: Any = (await conn.get_raw_connection()).driver_connection
            rows: Sequence[Row] = await raw.fetch(sql, *args)
            return rows
        return await db.driver.fetch(sql, args)

    async def first(self, session: AsyncSession, params: Mapping[str, Any]) -> Row | None:
        rows = await self.all(session, params)
        return rows[0] if rows else None


class _DriverResult:
    """asyncpg's rows where a Result is expected (FixedWrite.all reads them as mappings)."""

    def __init__(self, rows: Sequence[Row]) -> None:
        self.rows = rows

    def mappings(self) -> _DriverResult:
        return self

    def all(self) -> Sequence[Row]:
        return self.rows


class FixedWrite:
    """A statement that changes rows (INSERT … RETURNING and the like), built once at import and run
    in the session's transaction.

    On PostgreSQL it is compiled once per process. The first statement of a transaction is sent with
    `exec_driver_sql` (SQLAlchemy opens the transaction, BEGIN, and hands rows back without compiling
    and cache-keying the statement, which on a hot write cost more CPU than the statement); once the
    connection is inside a transaction, straight on asyncpg (as FixedQuery's reads). Parameters named
    in `json_params` are sent as JSON text (the engine's JSON codec takes text); other values must
    be what asyncpg takes as they are (aware datetimes, ints, strings, UUIDs). Elsewhere it runs
    through Core, with the statement's own type processing.
    """

    def __init__(self, statement: Any, *, json_params: Sequence[str] = ()) -> None:
        self.statement = statement
        self.json_params = frozenset(json_params)
        self._compiled: Any = None

    async def all(self, session: AsyncSession, params: Mapping[str, Any]) -> Sequence[Row]:
        """The rows the statement returns."""
        return (await self.execute(session, params)).mappings().all()

    async def execute(self, session: AsyncSession, params: Mapping[str, Any]) -> Any:
        """The statement's result (for statements that return no rows)."""
        db: Database | None = session.info.get("database")
        if db is None or db.driver is None:
            return await session.execute(self.statement, dict(params))
        if self._compiled is None:
            self._compiled = self.statement.compile(dialect=db.engine.dialect)
        compiled = self._compiled
        values = compiled.construct_params(dict(params))
        args = tuple(
            orjson.dumps(values[name]).decode() if name in self.json_params else values[name]
            for name in compiled.positiontup or ()
        )
        conn = await session.connection()
        driver: Any = (await conn.get_raw_connection()).driver_connection
        if driver.is_in_transaction():
            # A statement of this transaction went first (BEGIN was sent): straight to asyncpg.
            sql = str(compiled)
            db.note_driver_statement(sql)
            return _DriverResult(await driver.fetch(sql, *args))
        return await conn.exec_driver_sql(str(compiled), args)

    async def first(self, session: AsyncSession, params: Mapping[str, Any]) -> Row | None:
        rows = await self.all(session, params)
        return rows[0] if rows else None


class DriverStatement:
    """A statement that is a whole transaction by itself (data-modifying CTEs), sent alone on the
    driver pool and committed on its own: one round trip, no SQLAlchemy session, no BEGIN/COMMIT.
    PostgreSQL only (`available(session)` says whether it can run). SQL text with `:name`
    parameters, compiled once per process to asyncpg's `$n`; the values are what asyncpg takes
    (the pool's codec encodes JSON parameters cast to jsonb)."""

    def __init__(self, sql: str) -> None:
        self.statement = text(sql)
        self._compiled: tuple[str, tuple[str, ...]] | None = None

    @staticmethod
    def available(session: AsyncSession) -> bool:
        db: Database | None = session.info.get("database")
        return db is not None and db.driver is not None

    def compiled(self, dialect: Dialect) -> tuple[str, tuple[str, ...]]:
        if self._compiled is None:
            compiled = self.statement.compile(dialect=dialect)
            self._compiled = (str(compiled), tuple(compiled.positiontup or ()))
        return self._compiled

    async def fetch(self, session: AsyncSession, params: Mapping[str, Any]) -> Sequence[Row]:
        db: Database | None = session.info.get("database")
        if db is None or db.driver is None:
            raise RuntimeError("DriverStatement runs on PostgreSQL's driver pool only")
        sql, names = self.compiled(db.engine.dialect)
        db.note_driver_statement(sql)
        return await db.driver.fetch(sql, [params[name] for name in names])
