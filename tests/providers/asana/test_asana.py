"""The example provider end to end: connect through the sandbox's Asana, list its workspaces, and
the failure policy every resource list follows (all served from `providers/asana/`)."""

from __future__ import annotations

import httpx
import pytest

from patchbay.kit import retry
from patchbay.providers.asana import simulator as asana_sim
from patchbay.runtime import Runtime
from patchbay.sandbox.server import SandboxServer
from tests.oauth.helpers import connect, row
from tests.provider_resources.helpers import slack_integration
from tests.support.factory import Factory, Tenant


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(retry, "BACKOFF_SECONDS", 0.01)


async def test_connect_and_list_workspaces_page_by_page(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    ids = [asana_sim.add_workspace(sandbox.state, name) for name in ("Acme", "Beta", "Gamma")]
    asana_sim.set_page_size(sandbox.state, 2)
    pk = await connect(client, tenant, "asana")

    stored = await row(runtime, pk)
    assert stored.integration_id == asana_sim.DEFAULT_USER["gid"]
    retrieved = (await client.get(f"{tenant.base}/integrations/{pk}", headers=tenant.headers)).json()
    assert retrieved["kind"] == "asana" and retrieved["display_name"] == "sandbox@example.com"
    assert "access_token" not in str(retrieved["config"])

    listed = await client.get(f"{tenant.base}/integrations/{pk}/asana_workspaces", headers=tenant.headers)
    assert listed.status_code == 200, listed.text
    assert listed.json() == {
        "workspaces": [{"id": i, "name": n} for i, n in zip(ids, ("Acme", "Beta", "Gamma"), strict=True)]
    }
    assert sandbox.state.count_calls("asana", "/api/1.0/workspaces") == 2


async def test_other_kinds_are_refused(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    slack, _ = await slack_integration(factory, sandbox, tenant)
    response = await client.get(
        f"{tenant.base}/integrations/{slack.id}/asana_workspaces", headers=tenant.headers
    )
    assert response.status_code == 400
    assert response.json() == {
        "type": "validation_error",
        "code": "invalid_input",
        "detail": "asana_workspaces endpoint is only supported for Asana integrations",
        "attr": "kind",
    }


async def test_refused_token_marks_the_integration(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    pk = await connect(client, tenant, "asana")
    sandbox.state.inject("asana", "401", count=5, path_contains="/workspaces")
    response = await client.get(f"{tenant.base}/integrations/{pk}/asana_workspaces", headers=tenant.headers)
    assert response.status_code == 400
    assert "reconnect" in response.json()["detail"]
    assert sandbox.state.count_calls("asana", "/api/1.0/workspaces") == 1  # refusals are not retried
    assert (await row(runtime, pk)).errors == "TOKEN_REFRESH_FAILED"


async def test_outage_is_retried_then_502(
    client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxServer
) -> None:
    pk = await connect(client, tenant, "asana")
    sandbox.state.inject("asana", "500", count=10, path_contains="/workspaces")
    response = await client.get(f"{tenant.base}/integrations/{pk}/asana_workspaces", headers=tenant.headers)
    assert response.status_code == 502
    assert response.json()["detail"] == "Asana answered with an error. Please try again later."
    assert sandbox.state.count_calls("asana", "/api/1.0/workspaces") == 3
