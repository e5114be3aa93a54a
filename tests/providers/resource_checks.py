"""The failure policy every resource list follows, checked the same way for each provider: a token
the provider refuses asks to reconnect and marks the row (no retry); an outage is retried, then 502;
a timeout is 503; another kind gets the route's own 400."""

from __future__ import annotations

from typing import Any

import httpx

from patchbay.models import Integration
from patchbay.runtime import Runtime
from patchbay.sandbox.server import SandboxServer
from tests.oauth.helpers import row
from tests.support.factory import Factory, Tenant


async def check_failure_policy(
    client: httpx.AsyncClient,
    tenant: Tenant,
    runtime: Runtime,
    sandbox: SandboxServer,
    make_row: Any,
    *,
    path: str,
    provider: str,
    path_contains: str,
    query: dict[str, str] | None = None,
) -> None:
    sandbox.state.timeout_seconds = 3.0
    for fault, status in (("500", 502), ("timeout", 503)):
        integration: Integration = await make_row()
        sandbox.state.inject(provider, fault, count=10, path_contains=path_contains)
        response = await client.get(
            f"{tenant.base}/integrations/{integration.id}/{path}/", params=query, headers=tenant.headers
        )
        assert response.status_code == status, (fault, response.text)
        assert set(response.json()) == {"type", "code", "detail", "attr"}
        sandbox.state.clear_faults(provider)
    before = sandbox.state.count_calls(provider, path_contains)
    integration = await make_row()
    sandbox.state.inject(provider, "401", count=10, path_contains=path_contains)
    refused = await client.get(
        f"{tenant.base}/integrations/{integration.id}/{path}/", params=query, headers=tenant.headers
    )
    assert refused.status_code == 400, refused.text
    assert "reconnect" in refused.json()["detail"]
    assert sandbox.state.count_calls(provider, path_contains) == before + 1  # refusals are not retried
    assert (await row(runtime, integration.id)).errors == "TOKEN_REFRESH_FAILED"
    sandbox.state.clear_faults(provider)


async def check_wrong_kind(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, path: str, detail: str
) -> None:
    twilio = await factory.integration(tenant.project, "twilio")
    response = await client.get(f"{tenant.base}/integrations/{twilio.id}/{path}/", headers=tenant.headers)
    assert response.status_code == 400
    assert response.json()["detail"] == detail
