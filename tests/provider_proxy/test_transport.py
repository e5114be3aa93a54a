"""Bodies both ways (streamed, 10 MiB cap), the provider's time limit, Retry-After passed on."""

from __future__ import annotations

import hashlib
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from patchbay.app import create_app
from patchbay.runtime import build_runtime
from patchbay.sandbox.server import SandboxServer, free_port
from tests.conftest import SITE_URL
from tests.provider_proxy.helpers import slack_integration, twilio_integration
from tests.support.echo_provider import EchoProvider
from tests.support.factory import Factory, Tenant
from tests.support.live_server import ThreadedServer

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def echo() -> Iterator[tuple[EchoProvider, str]]:
    provider = EchoProvider()
    server = ThreadedServer(provider.app, lifespan="off").start()
    yield provider, server.origin
    server.stop()


@pytest.fixture
async def echo_client(
    echo: tuple[EchoProvider, str], make_settings: Any, database_url: str
) -> AsyncIterator[tuple[httpx.AsyncClient, Factory, EchoProvider]]:
    provider, origin = echo
    provider.received.clear()
    settings = make_settings(kind_overrides={"PATCHBAY_TWILIO_API_URL": origin})
    runtime = build_runtime(settings)
    app = create_app(settings, runtime)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=SITE_URL, timeout=60
    ) as client:
        yield client, Factory(runtime), provider
    await runtime.close()
    from tests.support.pg import truncate_all

    await truncate_all(database_url)


async def test_bodies_stream_both_ways_above_the_default_body_limit(
    echo_client: tuple[httpx.AsyncClient, Factory, EchoProvider], sandbox: SandboxServer
) -> None:
    client, factory, provider = echo_client
    tenant = await factory.tenant()
    row, _ = await twilio_integration(factory, tenant, sandbox)
    body = bytes(range(256)) * (8 * MiB // 256)  # 8 MiB: over PATCHBAY_MAX_BODY_BYTES, under the proxy's cap

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(body), MiB):
            yield body[start : start + MiB]

    answer = await client.put(
        f"{tenant.base}/integrations/{row.id}/proxy/upload/file.bin",
        content=chunks(),
        headers={**tenant.headers, "Content-Type": "application/octet-stream"},
    )
    assert answer.status_code == 200, answer.text
    seen = answer.json()
    assert seen["size"] == len(body) and seen["sha256"] == hashlib.sha256(body).hexdigest()
    assert seen["raw_path"] == "/upload/file.bin" and seen["method"] == "PUT"
    # The provider's headers come back, less Set-Cookie; the marker is added.
    assert answer.headers["x-provider"] == "echo" and "set-cookie" not in answer.headers
    assert answer.headers["patchbay-proxy"] == "upstream"

    big = await client.get(
        f"{tenant.base}/integrations/{row.id}/proxy/big", params={"n": 24 * MiB}, headers=tenant.headers
    )
    assert big.status_code == 200 and len(big.content) == 24 * MiB


async def test_a_providers_cookie_is_never_sent_again(
    echo_client: tuple[httpx.AsyncClient, Factory, EchoProvider], sandbox: SandboxServer
) -> None:
    """The outbound client is shared by every tenant of a worker: a cookie one answer set must not
    ride along on the next call (another project's, here)."""
    client, factory, provider = echo_client
    calls = []
    for _ in range(2):
        tenant = await factory.tenant()
        row, _ = await twilio_integration(factory, tenant, sandbox)
        answer = await client.get(f"{tenant.base}/integrations/{row.id}/proxy/echo", headers=tenant.headers)
        assert answer.status_code == 200 and "set-cookie" not in answer.headers
        calls.append(answer.json()["headers"])
    assert len(provider.received) == 2  # both calls reached the provider, which set a cookie each time
    assert all("cookie" not in seen for seen in calls), calls


async def test_a_body_over_10_mib_is_413_and_nothing_is_sent(
    echo_client: tuple[httpx.AsyncClient, Factory, EchoProvider], sandbox: SandboxServer
) -> None:
    client, factory, provider = echo_client
    tenant = await factory.tenant()
    row, _ = await twilio_integration(factory, tenant, sandbox)
    url = f"{tenant.base}/integrations/{row.id}/proxy/upload"
    declared = await client.post(url, content=b"x" * (10 * MiB + 1), headers=tenant.headers)
    assert declared.status_code == 413 and "patchbay-proxy" not in declared.headers
    assert declared.json()["code"] == "request_too_large"
    assert provider.received == []
    exactly = await client.post(url, content=b"x" * (10 * MiB), headers=tenant.headers)
    assert exactly.status_code == 200 and exactly.json()["size"] == 10 * MiB


async def test_a_slow_provider_is_503_within_the_timeout(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    row = await slack_integration(factory, tenant, sandbox)
    sandbox.state.inject("slack", "timeout", path_contains="auth.test")
    started = time.monotonic()
    answer = await client.get(f"{tenant.base}/integrations/{row.id}/proxy/auth.test", headers=tenant.headers)
    elapsed = time.monotonic() - started
    assert answer.status_code == 503 and answer.json()["code"] == "provider_unreachable"
    assert "patchbay-proxy" not in answer.headers
    assert elapsed < sandbox.state.timeout_seconds  # PATCHBAY_HTTP_TIMEOUT is 2 s in tests, the delay 3 s


async def test_an_unreachable_provider_is_503(
    make_settings: Any, sandbox: SandboxServer, database_url: str
) -> None:
    settings = make_settings(kind_overrides={"PATCHBAY_TWILIO_API_URL": f"http://127.0.0.1:{free_port()}"})
    runtime = build_runtime(settings)
    try:
        app = create_app(settings, runtime)
        factory = Factory(runtime)
        tenant = await factory.tenant()
        row, sid = await twilio_integration(factory, tenant, sandbox)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=SITE_URL) as client:
            answer = await client.get(f"{tenant.base}/integrations/{row.id}/proxy/x", headers=tenant.headers)
        assert answer.status_code == 503 and answer.json()["code"] == "provider_unreachable"
        assert "patchbay-proxy" not in answer.headers
    finally:
        await runtime.close()
        from tests.support.pg import truncate_all

        await truncate_all(database_url)


async def test_retry_after_is_passed_on_without_waiting(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    row = await slack_integration(factory, tenant, sandbox)
    sandbox.state.inject("slack", "429", path_contains="conversations.list", retry_after=30)
    started = time.monotonic()
    answer = await client.get(
        f"{tenant.base}/integrations/{row.id}/proxy/conversations.list", headers=tenant.headers
    )
    assert time.monotonic() - started < 5
    assert answer.status_code == 429 and answer.headers["retry-after"] == "30"
    assert answer.headers["patchbay-proxy"] == "upstream" and answer.json()["error"] == "ratelimited"
    assert sandbox.state.count_calls("slack", "conversations.list") == 1  # no retry of our own
