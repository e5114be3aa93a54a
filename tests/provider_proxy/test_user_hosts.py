"""Kinds whose API lives on a host the user typed in (GitLab's instance) are proxied through the
address guard: reachable when the operator allows the network, refused with nothing sent otherwise.
GitHub App installations are proxied with their minted installation token."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from patchbay.app import create_app
from patchbay.providers.gitlab import simulator as gitlab_sim
from patchbay.runtime import build_runtime
from patchbay.sandbox.server import SandboxServer
from tests.support.factory import Tenant

TOKEN = "glpat-SENTINEL-proxy"


@pytest.fixture
async def two_apps(make_settings: Any) -> Any:
    """The same database served twice: with loopback allowed for user hosts, and with the default guard."""
    clients: list[httpx.AsyncClient] = []
    runtimes = []
    for overrides in ({"user_host_allowed_networks": "127.0.0.0/8"}, {}):
        runtime = build_runtime(make_settings(**overrides))
        runtimes.append(runtime)
        transport = httpx.ASGITransport(app=create_app(runtime.settings, runtime))
        clients.append(httpx.AsyncClient(transport=transport, base_url="http://testserver"))
    yield clients
    for client, runtime in zip(clients, runtimes, strict=True):
        await client.aclose()
        await runtime.close()


async def test_gitlab_is_proxied_only_through_the_guard(
    two_apps: Any, tenant: Tenant, sandbox: SandboxServer
) -> None:
    allowed, guarded = two_apps
    project_id = gitlab_sim.add_project(sandbox.state, "acme/web", TOKEN)
    hostname = gitlab_sim.hostname(sandbox.base_url)
    created = await allowed.post(
        f"{tenant.base}/integrations/",
        json={"kind": "gitlab", "config": {"hostname": hostname, "project_id": project_id, "project_access_token": TOKEN}},
        headers=tenant.headers,
    )
    assert created.status_code == 201, created.text
    path = f"{tenant.base}/integrations/{created.json()['id']}/proxy/projects/{project_id}"

    answer = await allowed.get(path, headers=tenant.headers)
    assert answer.status_code == 200, answer.text
    assert answer.headers["patchbay-proxy"] == "upstream"
    assert answer.json()["path_with_namespace"] == "acme/web"
    calls = sandbox.state.count_calls("gitlab")

    refused = await guarded.get(path, headers=tenant.headers)
    assert refused.status_code == 400, refused.text
    assert "patchbay-proxy" not in refused.headers
    assert "may not call" in refused.json()["detail"]
    assert sandbox.state.count_calls("gitlab") == calls  # nothing left for the loopback host
    assert TOKEN not in refused.text
