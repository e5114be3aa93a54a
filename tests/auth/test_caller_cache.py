"""The caller cache (auth/cache.py): project requests skip the key lookup while PostgreSQL reports no
change, and every change to keys, users, projects or memberships is seen as soon as it is notified,
whichever process made it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import httpx
import pytest

from patchbay.auth.cache import CHANNEL, CallerCache
from patchbay.auth.keys import hash_key_value
from patchbay.config import Settings
from patchbay.kit.live_cache import keep_live
from patchbay.runtime import Runtime, build_runtime
from tests.support.factory import Factory, Tenant

ROW = {"key_id": "k", "user_id": 1}


# --- the cache on its own ---------------------------------------------------------------------


def live_cache(**kwargs: float) -> CallerCache:
    cache = CallerCache(**kwargs)  # type: ignore[arg-type]
    cache.set_live(True)
    return cache


def test_serves_nothing_and_keeps_nothing_unless_live() -> None:
    cache = CallerCache()
    cache.put("sv", 1, ROW, cache.generation)
    assert cache.get("sv", 1) is None
    cache.set_live(True)
    cache.put("sv", 1, ROW, cache.generation)
    assert cache.get("sv", 1) == ROW
    cache.set_live(False)  # the listener lost its connection: empty, and bypassed
    assert len(cache) == 0 and cache.get("sv", 1) is None


def test_a_read_that_started_before_a_change_is_not_stored() -> None:
    cache = live_cache()
    generation = cache.generation  # a lookup starts ...
    cache.clear()  # ... a change is notified while it runs ...
    cache.put("sv", 1, ROW, generation)  # ... and its (possibly stale) row arrives
    assert cache.get("sv", 1) is None


def test_entries_expire() -> None:
    cache = live_cache(ttl=0.05)
    cache.put("sv", None, ROW, cache.generation)
    assert cache.get("sv", None) == ROW
    time.sleep(0.06)
    assert cache.get("sv", None) is None


def test_size_is_bounded_and_keys_are_forgotten_whole() -> None:
    cache = live_cache(max_keys=2, max_projects_per_key=2)
    for key in ("a", "b", "c"):
        cache.put(key, 1, ROW, cache.generation)
    assert cache.get("a", 1) is None and cache.get("c", 1) == ROW  # the oldest key went first
    for project in (1, 2, 3):
        cache.put("b", project, ROW, cache.generation)
    assert len(cache) == 3  # b: two projects, c: one
    cache.forget_key("b")
    assert cache.get("b", 3) is None and cache.get("c", 1) == ROW
    cache.forget_key("never-cached")  # a key used for the first time in an hour: nothing to forget
    assert cache.get("c", 1) == ROW


# --- against PostgreSQL, with the real listener ------------------------------------------------


@pytest.fixture
async def listening(backend: str, runtime: Runtime) -> AsyncIterator[CallerCache]:
    if backend != "postgresql":
        pytest.skip("the caller cache needs PostgreSQL's NOTIFY; SQLite runs without it")
    cache = runtime.caller_cache
    assert cache is not None and runtime.db.driver is not None
    stop = asyncio.Event()
    task = asyncio.create_task(keep_live({CHANNEL: cache}, runtime.db.driver.dsn, stop))
    await until(lambda: cache.live)
    yield cache
    stop.set()
    await task
    assert not cache.live


async def until(condition: Callable[[], bool], within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        await asyncio.sleep(0.01)


async def sql(runtime: Runtime, statement: str, *args: object) -> None:
    """A change made outside the app (another process: the CLI, an operator's psql)."""
    assert runtime.db.driver is not None
    connection = await asyncpg.connect(runtime.db.driver.dsn)
    try:
        await connection.execute(statement, *args)
    finally:
        await connection.close()


async def after_change(cache: CallerCache, change: Awaitable[None]) -> None:
    generation = cache.generation
    await change
    await until(lambda: cache.generation != generation)


async def test_a_cached_caller_costs_no_lookup(
    listening: CallerCache, client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    url = f"{tenant.base}/integrations/"
    assert (await client.get(url, headers=tenant.headers)).status_code == 200  # looks up, stamps
    assert (await client.get(url, headers=tenant.headers)).status_code == 200  # looks up, caches
    with runtime.db.watch_statements() as statements:
        response = await client.get(url, headers=tenant.headers)
    assert response.status_code == 200
    assert len(statements) == 1, statements  # the page; the caller came from the cache
    assert "integrations" in statements[0] and "personal_api_keys" not in statements[0]


async def test_each_project_is_cached_as_itself(
    listening: CallerCache, client: httpx.AsyncClient, tenant: Tenant, factory: Factory
) -> None:
    """A request names its project: the cached caller is that project's, never the caller's current
    one (an entry stored under the wrong project would act on another project's rows)."""
    second = await factory.project(tenant.organization)  # the same owner, not their current project
    await factory.integration(tenant.project, integration_id="in-current")
    await factory.integration(second, integration_id="in-second")
    stranger = await factory.tenant()  # another organization's project
    for _ in range(3):  # from PostgreSQL, then from the cache
        page = await client.get(f"/api/projects/{second.id}/integrations/", headers=tenant.headers)
        assert page.status_code == 200
        assert [row["display_name"] for row in page.json()["results"]] == ["ID: in-second"]  # twilio
        foreign = await client.get(f"{stranger.base}/integrations/", headers=tenant.headers)
        assert foreign.status_code == 403, foreign.text  # PostHog: a project that is not theirs
    assert listening.get(hash_key_value(tenant.key), second.id) is not None  # it was served cached


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ("DELETE FROM personal_api_keys WHERE user_id = $1", 401),
        ("UPDATE users SET is_active = false WHERE id = $1", 401),
        ("UPDATE personal_api_keys SET scopes = '[\"feature_flag:read\"]' WHERE user_id = $1", 403),
        ("DELETE FROM organization_memberships WHERE user_id = $1", 403),
        ("DELETE FROM projects WHERE id IN (SELECT current_project_id FROM users WHERE id = $1)", 404),
    ],
)
async def test_every_change_is_seen_once_notified(
    listening: CallerCache,
    client: httpx.AsyncClient,
    tenant: Tenant,
    runtime: Runtime,
    change: str,
    status: int,
) -> None:
    url = f"{tenant.base}/integrations/"
    for _ in range(3):
        assert (await client.get(url, headers=tenant.headers)).status_code == 200
    assert len(listening) == 1
    await after_change(listening, sql(runtime, change, tenant.user.id))
    assert len(listening) == 0
    response = await client.get(url, headers=tenant.headers)
    assert response.status_code == status, response.text


async def test_a_change_made_through_the_api_process_is_seen_too(
    listening: CallerCache, client: httpx.AsyncClient, tenant: Tenant, factory: Factory
) -> None:
    other = await factory.member_of(tenant)
    url = f"{tenant.base}/integrations/"
    assert (await client.get(url, headers=other.headers)).status_code == 200
    assert (await client.get(url, headers=other.headers)).status_code == 200
    await after_change(listening, factory.key(tenant.user))  # any write to the key table notifies
    assert (await client.get(url, headers=other.headers)).status_code == 200


async def test_the_hourly_stamp_is_not_a_change_and_is_not_repeated(
    listening: CallerCache, client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    url = f"{tenant.base}/integrations/"
    await client.get(url, headers=tenant.headers)
    generation = listening.generation
    await sql(runtime, "UPDATE personal_api_keys SET last_used_at = now() - interval '2 hours'")
    await asyncio.sleep(0.2)
    assert listening.generation == generation  # the stamp column alone does not notify
    # A cached row with an old stamp stamps once, then is re-read with the new one.
    listening.clear()
    await client.get(url, headers=tenant.headers)
    with runtime.db.watch_statements() as statements:
        for _ in range(3):
            await client.get(url, headers=tenant.headers)
    assert not [s for s in statements if s.lstrip().upper().startswith("UPDATE")], statements


async def test_a_lost_listener_empties_the_cache_until_it_is_back(
    listening: CallerCache, client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    url = f"{tenant.base}/integrations/"
    for _ in range(2):
        await client.get(url, headers=tenant.headers)
    assert len(listening) == 1
    await sql(runtime, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 "
                       "AND datname = current_database()", "patchbay-listen")  # fmt: skip
    await until(lambda: not listening.live)
    assert len(listening) == 0
    with runtime.db.watch_statements() as statements:  # served, from the database
        assert (await client.get(url, headers=tenant.headers)).status_code == 200
    assert len(statements) == 2
    await until(lambda: listening.live, within=10)


async def test_the_triggers_notify_the_channel(backend: str, runtime: Runtime, tenant: Tenant) -> None:
    if backend != "postgresql":
        pytest.skip("NOTIFY is PostgreSQL's")
    assert runtime.db.driver is not None
    connection = await asyncpg.connect(runtime.db.driver.dsn)
    received: list[str] = []
    await connection.add_listener(CHANNEL, lambda *args: received.append(args[-1]))
    try:
        for table, statement in [
            ("personal_api_keys", "UPDATE personal_api_keys SET scopes = scopes"),
            ("users", "UPDATE users SET first_name = first_name"),
            ("projects", "UPDATE projects SET name = name"),
            ("organization_memberships", "UPDATE organization_memberships SET level = level"),
        ]:
            await sql(runtime, statement)
            await until(lambda table=table: table in received)  # type: ignore[misc]
    finally:
        await connection.close()


async def test_built_only_for_postgresql_and_when_enabled(
    backend: str, make_settings: Callable[..., Settings]
) -> None:
    for settings, expected in [
        (make_settings(), backend == "postgresql"),
        (make_settings(auth_cache=False), False),
    ]:
        runtime = build_runtime(settings)
        try:
            assert (runtime.caller_cache is not None) is expected
        finally:
            await runtime.close()
