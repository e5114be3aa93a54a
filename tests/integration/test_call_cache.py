"""The integrations the proxy calls with, kept per worker (kit.live_cache, migration 0011): each
entry is what the tenant-scoped statement answered for one (project, viewer, integration), so a
cached row never reaches another project or another person; any update or delete of an integration,
from any process, empties the cache; a create of a new account does not."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from patchbay.integration.repository import CALL_CACHE_CHANNEL, CallKey, IntegrationRepository
from patchbay.kit.db import driver_dsn
from patchbay.kit.live_cache import LiveCache, keep_live
from patchbay.runtime import Runtime
from patchbay.sandbox.server import SandboxServer
from tests.integration.test_service import databricks
from tests.provider_proxy.helpers import slack_integration
from tests.support.factory import Factory, Tenant


async def test_each_project_and_viewer_is_cached_as_itself(
    tenant: Tenant, factory: Factory, runtime: Runtime
) -> None:
    """A personal (`posthog`) row is its creator's alone: the creator's cached read must not answer
    a colleague's, nor another project's reader of the same id."""
    colleague = await factory.member_of(tenant)
    stranger = await factory.tenant()
    row = await factory.integration(tenant.project, kind="posthog", integration_id="phx", created_by=tenant.user)
    cache: LiveCache[CallKey] = LiveCache()
    cache.set_live(True)
    async with runtime.db.session() as session:
        for _ in range(2):  # from the database, then from the cache
            mine = await IntegrationRepository(session, tenant.project.id, tenant.user.id).get_for_call(row.id, cache)
            assert mine is not None and mine.id == row.id
        assert len(cache) == 1
        colleagues = IntegrationRepository(session, tenant.project.id, colleague.user.id)
        assert await colleagues.get_for_call(row.id, cache) is None
        strangers = IntegrationRepository(session, stranger.project.id, stranger.user.id)
        assert await strangers.get_for_call(row.id, cache) is None
    assert len(cache) == 1  # misses are never kept


async def test_a_cached_row_hands_out_its_own_config(tenant: Tenant, factory: Factory, runtime: Runtime) -> None:
    row = await factory.integration(tenant.project, config={"account_sid": "AC1"})
    cache: LiveCache[CallKey] = LiveCache()
    cache.set_live(True)
    async with runtime.db.session() as session:
        repository = IntegrationRepository(session, tenant.project.id, tenant.user.id)
        first = await repository.get_for_call(row.id, cache)
        assert first is not None
        first.config["account_sid"] = "changed by a caller"
        second = await repository.get_for_call(row.id, cache)
    assert second is not None and second.config == {"account_sid": "AC1"}


# --- against PostgreSQL, with the app's listener ------------------------------------------------


@pytest.fixture
async def listening(backend: str, runtime: Runtime) -> AsyncIterator[LiveCache[CallKey]]:
    if backend != "postgresql":
        pytest.skip("the integration cache needs PostgreSQL's NOTIFY; SQLite runs without it")
    cache = runtime.integration_cache
    assert cache is not None and runtime.db.driver is not None
    stop = asyncio.Event()
    task = asyncio.create_task(keep_live({CALL_CACHE_CHANNEL: cache}, runtime.db.driver.dsn, stop))
    for _ in range(500):
        if cache.live:
            break
        await asyncio.sleep(0.01)
    assert cache.live
    yield cache
    stop.set()
    await task
    assert not cache.live


async def _until_emptied(cache: LiveCache[CallKey], generation: int) -> None:
    for _ in range(500):
        if cache.generation != generation:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("no notification emptied the cache")


async def _cached_call(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> tuple[int, str]:
    """A Slack integration proxied through until its row is cached: (its id, the call's URL)."""
    row = await slack_integration(factory, tenant, sandbox)
    url = f"{tenant.base}/integrations/{row.id}/proxy/auth.test"
    for _ in range(2):  # the key's hourly stamp, then the row read and cached
        assert (await client.get(url, headers=tenant.headers)).status_code == 200
    return row.id, url


async def test_a_proxied_call_with_a_cached_integration_reads_no_row(
    listening: LiveCache[CallKey],
    client: httpx.AsyncClient,
    tenant: Tenant,
    factory: Factory,
    runtime: Runtime,
    sandbox: SandboxServer,
) -> None:
    _, url = await _cached_call(client, tenant, factory, sandbox)
    with runtime.db.watch_statements() as statements:
        answer = await client.get(url, headers=tenant.headers)
    assert answer.status_code == 200 and answer.headers["patchbay-proxy"] == "upstream"
    assert not [s for s in statements if "FROM integrations" in s], statements


@pytest.mark.parametrize(
    ("change", "status"),
    [
        # A dead grant (as the refresher marks it): the proxy asks for a reconnect instead of calling.
        ("UPDATE integrations SET errors = 'TOKEN_REFRESH_FAILED' WHERE id = $1", 400),
        ("DELETE FROM integrations WHERE id = $1", 404),
    ],
)
async def test_a_change_from_another_process_is_seen_once_notified(
    listening: LiveCache[CallKey],
    client: httpx.AsyncClient,
    tenant: Tenant,
    factory: Factory,
    runtime: Runtime,
    sandbox: SandboxServer,
    database_url: str,
    change: str,
    status: int,
) -> None:
    row_id, url = await _cached_call(client, tenant, factory, sandbox)
    assert len(listening) == 1
    generation = listening.generation
    other_process = await asyncpg.connect(driver_dsn(database_url))
    try:
        await other_process.execute(change, row_id)
    finally:
        await other_process.close()
    await _until_emptied(listening, generation)
    with runtime.db.watch_statements() as statements:
        answer = await client.get(url, headers=tenant.headers)
    assert answer.status_code == status, answer.text
    assert [s for s in statements if "FROM integrations" in s], statements  # read afresh


async def test_changes_to_what_calls_read_notify_and_creates_of_new_accounts_do_not(
    backend: str, client: httpx.AsyncClient, tenant: Tenant, factory: Factory, database_url: str
) -> None:
    if backend != "postgresql":
        return  # SQLite has no NOTIFY and no cache
    heard: list[str] = []
    listener = await asyncpg.connect(driver_dsn(database_url))
    writer = await asyncpg.connect(driver_dsn(database_url))
    try:
        await listener.add_listener(CALL_CACHE_CHANNEL, lambda *args: heard.append(args[3]))
        for _ in range(2):  # the first create of the test may warm things up; both insert
            created = await client.post(f"{tenant.base}/integrations/", json=databricks()[1], headers=tenant.headers)
            assert created.status_code == 201, created.text
        await asyncio.sleep(0.3)
        assert heard == []
        row = await factory.integration(tenant.project)
        await asyncio.sleep(0.3)
        assert heard == []  # an insert: nobody holds it yet
        for statement, expected in (
            ("UPDATE integrations SET health_checked_at = now() WHERE id = $1", 0),  # not read by calls
            ("UPDATE integrations SET errors = 'x' WHERE id = $1", 1),
            ("UPDATE integrations SET errors = 'y' WHERE id = -$1::int", 1),  # no row: no notification
            ("DELETE FROM integrations WHERE id = $1", 2),
            ("TRUNCATE integrations CASCADE", 3),
        ):
            if "$1" in statement:
                await writer.execute(statement, row.id)
            else:
                await writer.execute(statement)
            for _ in range(100):
                if len(heard) >= expected:
                    break
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.05)
            assert len(heard) == expected, statement
    finally:
        await listener.close()
        await writer.close()
