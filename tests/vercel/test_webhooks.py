"""POST /api/vercel/v1/webhooks/: x-vercel-signature and the uninstall event."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

import httpx
import orjson

from patchbay.models import Integration, OrganizationIntegration
from patchbay.providers.vercel import simulator as sim
from patchbay.runtime import Runtime
from tests.support.factory import Factory, Tenant
from tests.vercel.helpers import org_integration, rows, vercel_project_integrations

URL = "/api/vercel/v1/webhooks/"


def _signed(event: dict[str, Any], secret: str = sim.CLIENT_SECRET) -> tuple[bytes, dict[str, str]]:
    raw = orjson.dumps(event)
    signature = hmac.new(secret.encode(), raw, hashlib.sha1).hexdigest()
    return raw, {"x-vercel-signature": signature, "Content-Type": "application/json"}


def _removed(installation_id: str, *, nested: bool = False) -> dict[str, Any]:
    payload: dict[str, Any] = (
        {"configuration": {"id": installation_id}} if nested else {"installationId": installation_id}
    )
    return {
        "id": "evt_1",
        "type": "integration-configuration.removed",
        "createdAt": 1700000000000,
        "payload": payload,
    }


async def _installed(
    runtime: Runtime, tenant: Tenant, factory: Factory
) -> tuple[OrganizationIntegration, Integration]:
    row = await org_integration(runtime, tenant.organization)
    resource = await factory.integration(tenant.project, kind="vercel", integration_id=str(tenant.project.id))
    return row, resource


async def test_bad_signatures_are_refused(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, runtime: Runtime
) -> None:
    row, _ = await _installed(runtime, tenant, factory)
    raw, headers = _signed(_removed(row.integration_id or ""), secret="not-the-secret")
    for attempt in (
        headers,
        {"Content-Type": "application/json"},
        {"x-vercel-signature": "", "Content-Type": "application/json"},
    ):
        response = await client.post(URL, content=raw, headers=attempt)
        assert response.status_code == 401
        assert response.json() == {
            "type": "authentication_error",
            "code": "authentication_failed",
            "detail": "Invalid signature",
            "attr": None,
        }
    # A valid signature over different bytes does not carry over to a changed body.
    good_raw, good_headers = _signed(_removed("icfg_other"))
    tampered = await client.post(URL, content=raw, headers=good_headers)
    assert tampered.status_code == 401
    assert len(await rows(runtime, OrganizationIntegration)) == 1
    assert len(await vercel_project_integrations(runtime, tenant.organization)) == 1
    assert good_raw != raw


async def test_uninstall_removes_the_org_and_project_integrations(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, runtime: Runtime
) -> None:
    row, _ = await _installed(runtime, tenant, factory)
    other_kind = await factory.integration(tenant.project, kind="twilio")
    other = await factory.tenant()
    kept, kept_resource = await _installed(runtime, other, factory)

    raw, headers = _signed(_removed(row.integration_id or ""))
    response = await client.post(URL, content=raw, headers=headers)
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert [r.id for r in await rows(runtime, OrganizationIntegration)] == [kept.id]
    assert await vercel_project_integrations(runtime, tenant.organization) == []
    assert {r.id for r in await rows(runtime, Integration)} == {other_kind.id, kept_resource.id}

    # The configuration id may also come nested; an unknown installation is acknowledged.
    raw, headers = _signed(_removed(kept.integration_id or "", nested=True))
    assert (await client.post(URL, content=raw, headers=headers)).json() == {"status": "ok"}
    assert await rows(runtime, OrganizationIntegration) == []
    raw, headers = _signed(_removed("icfg_unknown"))
    assert (await client.post(URL, content=raw, headers=headers)).status_code == 200


async def test_other_events_are_acknowledged(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, runtime: Runtime
) -> None:
    row, _ = await _installed(runtime, tenant, factory)
    raw, headers = _signed({"type": "deployment.created", "payload": {"installationId": row.integration_id}})
    response = await client.post(URL, content=raw, headers=headers)
    assert response.status_code == 200 and response.json() == {"status": "ignored"}
    assert len(await rows(runtime, OrganizationIntegration)) == 1

    raw, headers = _signed({"type": "integration-configuration.removed", "payload": {}})
    missing = await client.post(URL, content=raw, headers=headers)
    assert missing.status_code == 400 and missing.json()["detail"] == "Missing configurationId"
