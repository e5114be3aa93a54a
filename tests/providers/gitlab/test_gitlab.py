"""The `gitlab` kind against the sandbox's GitLab: the project read with the token through the address
guard (loopback allowed for these tests only), every refusal with its `attr`, and hosts that resolve to
private addresses refused before any request leaves."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from patchbay.app import create_app
from patchbay.kit import retry
from patchbay.providers.gitlab import simulator as gitlab_sim
from patchbay.runtime import build_runtime
from patchbay.sandbox.server import SandboxServer
from tests.oauth.helpers import row, secrets_of
from tests.support.factory import Tenant

SENTINEL = "glpat-SENTINEL-never-returned"


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry, "BACKOFF_SECONDS", 0.01)


@pytest.fixture
async def loopback_client(make_settings: Any) -> Any:
    """An app whose address guard lets the sandbox's loopback GitLab through."""
    settings = make_settings(user_host_allowed_networks="127.0.0.0/8")
    runtime = build_runtime(settings)
    transport = httpx.ASGITransport(app=create_app(settings, runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client, runtime
    await runtime.close()


async def create(client: httpx.AsyncClient, tenant: Tenant, config: dict[str, Any]) -> httpx.Response:
    return await client.post(
        f"{tenant.base}/integrations/", json={"kind": "gitlab", "config": config}, headers=tenant.headers
    )


async def test_connects_a_project(loopback_client: Any, tenant: Tenant, sandbox: SandboxServer) -> None:
    client, runtime = loopback_client
    project_id = gitlab_sim.add_project(sandbox.state, "acme/web", SENTINEL)
    hostname = gitlab_sim.hostname(sandbox.base_url)
    response = await create(
        client,
        tenant,
        {"hostname": hostname + "/", "project_id": project_id, "project_access_token": SENTINEL},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["kind"] == "gitlab" and body["display_name"] == "acme / web"
    assert body["config"] == {
        "hostname": hostname,
        "path_with_namespace": "acme/web",
        "project_id": project_id,
    }
    assert SENTINEL not in response.text
    stored = await row(runtime, body["id"])
    assert secrets_of(runtime, stored) == {"access_token": SENTINEL}

    by_path = await create(
        client, tenant, {"hostname": hostname, "project_id": "acme/web", "project_access_token": SENTINEL}
    )
    assert by_path.status_code == 201 and by_path.json()["id"] == body["id"]  # the same project: upsert


@pytest.mark.parametrize(
    ("config", "detail", "attr"),
    [
        ({}, "Hostname, project ID and project access token must be provided", None),
        ({"hostname": "https://gitlab.com", "project_id": 1}, "Hostname, project ID and project access token must be provided", None),
        ({"hostname": 7, "project_id": 1, "project_access_token": "t"}, "Hostname and project access token must be strings, and the project ID a number or a path", None),
        ({"hostname": "gitlab.com", "project_id": 1, "project_access_token": "t"}, "Invalid GitLab hostname: HTTPS is required", "hostname"),
        ({"hostname": "ftp://gitlab.com", "project_id": 1, "project_access_token": "t"}, "Invalid GitLab hostname: HTTPS is required", "hostname"),
        ({"hostname": "https://user@gitlab.com", "project_id": 1, "project_access_token": "t"}, "Invalid GitLab hostname: not a URL", "hostname"),
    ],
)  # fmt: skip
async def test_validation_messages(
    client: httpx.AsyncClient, tenant: Tenant, config: dict[str, Any], detail: str, attr: str | None
) -> None:
    response = await create(client, tenant, config)
    assert response.status_code == 400, response.text
    assert response.json() == {
        "type": "validation_error",
        "code": "invalid_input",
        "detail": detail,
        "attr": attr,
    }


@pytest.mark.parametrize(
    "hostname",
    ["http://127.0.0.1:9", "http://10.0.0.8", "http://169.254.169.254", "http://[::ffff:127.0.0.1]"],
)
async def test_private_hosts_are_refused(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxServer, hostname: str
) -> None:
    response = await create(
        client, tenant, {"hostname": hostname, "project_id": 1, "project_access_token": "t"}
    )
    assert response.status_code == 400, response.text
    assert response.json()["attr"] == "hostname"
    assert "not allowed" in response.json()["detail"]
    assert sandbox.state.count_calls("gitlab") == 0


async def test_bad_token_and_unknown_project(
    loopback_client: Any, tenant: Tenant, sandbox: SandboxServer
) -> None:
    client, _ = loopback_client
    project_id = gitlab_sim.add_project(sandbox.state, "acme/api", SENTINEL)
    hostname = gitlab_sim.hostname(sandbox.base_url)
    refused = await create(
        client, tenant, {"hostname": hostname, "project_id": project_id, "project_access_token": "wrong"}
    )
    assert refused.status_code == 400
    assert refused.json()["attr"] == "project_access_token"
    assert refused.json()["detail"].startswith("GitLab refused the project access token.")
    missing = await create(
        client, tenant, {"hostname": hostname, "project_id": 1, "project_access_token": SENTINEL}
    )
    assert missing.status_code == 400 and missing.json()["attr"] == "project_id"


@pytest.mark.parametrize(("fault", "status"), [("500", 502), ("timeout", 503), ("429", 429)])
async def test_provider_down(
    loopback_client: Any, tenant: Tenant, sandbox: SandboxServer, fault: str, status: int
) -> None:
    client, _ = loopback_client
    sandbox.state.timeout_seconds = 3.0
    project_id = gitlab_sim.add_project(sandbox.state, "acme/down", SENTINEL)
    sandbox.state.inject("gitlab", fault, count=3)
    response = await create(
        client,
        tenant,
        {
            "hostname": gitlab_sim.hostname(sandbox.base_url),
            "project_id": project_id,
            "project_access_token": SENTINEL,
        },
    )
    assert response.status_code == status, response.text
    assert SENTINEL not in response.text


async def test_https_only_unless_the_operator_allows_http(
    make_settings: Any, tenant: Tenant, sandbox: SandboxServer
) -> None:
    settings = make_settings(
        user_host_allowed_networks="127.0.0.0/8", kind_overrides={"PATCHBAY_GITLAB_ALLOW_HTTP": ""}
    )
    runtime = build_runtime(settings)
    try:
        transport = httpx.ASGITransport(app=create_app(settings, runtime))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            response = await create(
                client,
                tenant,
                {
                    "hostname": gitlab_sim.hostname(sandbox.base_url),
                    "project_id": 1,
                    "project_access_token": "t",
                },
            )
        assert response.status_code == 400
        assert response.json()["detail"] == "Invalid GitLab hostname: HTTPS is required"
    finally:
        await runtime.close()
