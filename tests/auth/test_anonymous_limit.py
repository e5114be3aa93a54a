"""PATCHBAY_RATE_LIMIT_ANONYMOUS: requests without a valid key — no key, a bad key, OAuth callbacks,
Vercel's routes, the connect pages — count per client address, in memory or shared through Redis; 429 with Retry-After."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from patchbay.app import create_app
from patchbay.config import Settings
from patchbay.runtime import ConfigurationError, Runtime, build_runtime
from tests.support.factory import Factory
from tests.support.pg import truncate_all

ADDRESS = ("203.0.113.7", 40000)
OTHER_ADDRESS = ("203.0.113.8", 40000)

# One of each kind of request that carries no valid key.
ANONYMOUS_REQUESTS = [
    ("GET", "/api/projects/@current/integrations/", {}),
    ("GET", "/api/projects/@current/integrations/", {"Authorization": "Bearer phx_not_a_key"}),
    ("GET", "/integrations/slack/callback?code=c&state=s", {}),
    ("POST", "/api/vercel/v1/webhooks/", {"x-vercel-signature": "00"}),
    ("GET", "/api/vercel/v1/installations/icfg_1", {}),
    ("GET", "/connect/vercel/link?session=x", {}),
    ("GET", "/connect/pcs_" + "x" * 43, {}),
    ("POST", "/connect/pcs_" + "x" * 43 + "/kinds/twilio", {}),
]


@asynccontextmanager
async def clients(settings: Settings, count: int = 1) -> AsyncIterator[tuple[Runtime, list[Any]]]:
    """`count` apps (each its own runtime, like separate workers); per app a client from ADDRESS and
    one from OTHER_ADDRESS."""
    runtimes = [build_runtime(settings) for _ in range(count)]
    opened: list[httpx.AsyncClient] = []
    try:
        for runtime in runtimes:
            app = create_app(settings, runtime)
            for address in (ADDRESS, OTHER_ADDRESS):
                transport = httpx.ASGITransport(app=app, client=address)
                opened.append(httpx.AsyncClient(transport=transport, base_url="http://testserver"))
        yield runtimes[0], opened
    finally:
        for client in opened:
            await client.aclose()
        for runtime in runtimes:
            await runtime.close()
        await truncate_all(settings.database_url)


def assert_throttled(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    body = response.json()
    assert (body["type"], body["code"], body["attr"]) == ("throttled_error", "throttled", None)
    wait = int(response.headers["Retry-After"])
    assert 1 <= wait <= 3601
    assert body["detail"] == f"Request was throttled. Expected available in {wait} second{'s' if wait != 1 else ''}."


async def exercise(settings: Settings, count: int) -> None:
    async with clients(settings, count) as (runtime, opened):
        tenant = await Factory(runtime).tenant()
        mine = opened[0::2]  # from ADDRESS, spread over the apps
        for i, (method, url, headers) in enumerate(ANONYMOUS_REQUESTS):
            response = await mine[i % len(mine)].request(method, url, headers=headers)
            assert response.status_code != 429, (url, response.text)
        for method, url, headers in ANONYMOUS_REQUESTS:
            assert_throttled(await mine[-1].request(method, url, headers=headers))
        # A valid key is never counted nor refused, from the same address.
        valid = await mine[0].get(f"{tenant.base}/integrations/", headers=tenant.headers)
        assert valid.status_code == 200
        # Another address has its own budget.
        elsewhere = await opened[1].get("/api/projects/@current/integrations/")
        assert elsewhere.status_code == 401


async def test_anonymous_requests_are_limited_per_address_in_memory(make_settings: Any) -> None:
    await exercise(make_settings(rate_limit_anonymous=f"{len(ANONYMOUS_REQUESTS)}/hour"), count=1)


async def test_anonymous_requests_are_counted_together_through_redis(make_settings: Any) -> None:
    await exercise(make_settings(rate_limit_anonymous=f"{len(ANONYMOUS_REQUESTS)}/hour", redis=True), count=2)


async def test_off_disables_the_anonymous_limit(make_settings: Any) -> None:
    async with clients(make_settings(rate_limit_anonymous="off")) as (_, opened):
        for _ in range(30):
            response = await opened[0].get("/api/projects/@current/integrations/")
            assert response.status_code == 401


def test_a_malformed_anonymous_limit_names_the_setting(make_settings: Any) -> None:
    with pytest.raises(ConfigurationError, match="PATCHBAY_RATE_LIMIT_ANONYMOUS"):
        build_runtime(make_settings(rate_limit_anonymous="lots"))


def test_the_default_is_120_a_minute() -> None:
    assert Settings(_env_file=None).rate_limit_anonymous == "120/minute"  # type: ignore[call-arg]
