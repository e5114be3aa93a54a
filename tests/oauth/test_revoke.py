"""Deleting an integration whose kind has a revoke URL revokes its token: best effort, the delete
answers 204 whatever the provider does."""

from __future__ import annotations

import httpx

from patchbay.runtime import Runtime
from patchbay.sandbox.server import SandboxServer
from patchbay.simkit import oauth as _oauth
from tests.oauth.helpers import connect, row, rows, secrets_of
from tests.support.factory import Tenant


async def test_delete_revokes_refresh_token(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    pk = await connect(client, tenant, "salesforce")
    refresh = secrets_of(runtime, await row(runtime, pk))["refresh_token"]
    response = await client.delete(f"{tenant.base}/integrations/{pk}/", headers=tenant.headers)
    assert response.status_code == 204
    assert _oauth.revoked(sandbox.state, "salesforce") == [refresh]
    assert refresh not in {t for t, i in sandbox.state.refresh_tokens.items() if not i.revoked}


async def test_resend_revokes_too(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    pk = await connect(client, tenant, "resend")
    refresh = secrets_of(runtime, await row(runtime, pk))["refresh_token"]
    assert (
        await client.delete(f"{tenant.base}/integrations/{pk}/", headers=tenant.headers)
    ).status_code == 204
    assert _oauth.revoked(sandbox.state, "oauth") == [refresh]


async def test_revoke_failure_never_blocks_delete(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    pk = await connect(client, tenant, "salesforce")
    sandbox.state.inject("salesforce", "timeout", path_contains="/revoke")
    response = await client.delete(f"{tenant.base}/integrations/{pk}/", headers=tenant.headers)
    assert response.status_code == 204
    assert await rows(runtime) == []


async def test_kinds_without_revoke_url_make_no_call(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    pk = await connect(client, tenant, "hubspot")
    before = len(sandbox.state.calls)
    assert (
        await client.delete(f"{tenant.base}/integrations/{pk}/", headers=tenant.headers)
    ).status_code == 204
    assert len(sandbox.state.calls) == before
