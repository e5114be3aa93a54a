"""Organization-level writes on the same domain or the same Vercel installation by two
organizations: each keeps its own row, nothing of one is visible to or changed by the other.

The same Vercel installation id linked by two organizations (each admin went through Vercel's
consent for it) gives each organization its own row: the second link does not take over, change
or reveal the first. A repeated marketplace PUT is Vercel updating its own installation: it
updates that row in place and hands the organization to nobody new."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
from sqlalchemy import select

from patchbay.models import (
    Integration,
    Organization,
    OrganizationIntegration,
    OrganizationMembership,
    ProxyRecord,
)
from patchbay.runtime import Runtime
from patchbay.sandbox.providers import vercel as sim
from patchbay.sandbox.server import SandboxServer
from tests.security.matrix_world import installation_body
from tests.support.factory import Factory, Tenant
from tests.vercel.helpers import org_integration, rows, vercel_project_integrations

REDIRECT_URI = "http://testserver/connect/vercel/callback"


def _columns(row: Any) -> dict[str, Any]:
    return {column.name: getattr(row, column.key) for column in row.__table__.columns}


async def _stored(runtime: Runtime, model: Any) -> dict[Any, dict[str, Any]]:
    """Every row of `model`, every column, secrets decrypted."""
    found = {}
    for row in await rows(runtime, model):
        values = _columns(row)
        if "sensitive_config" in values:
            values["sensitive_config"] = runtime.keyring.decrypt_json(row.sensitive_config)
        found[row.id] = values
    return found


async def test_same_proxy_record_domain(
    client: httpx.AsyncClient, runtime: Runtime, factory: Factory
) -> None:
    a, b = await factory.tenant(), await factory.tenant()
    created = await client.post(
        f"{a.org_base}/proxy_records/", json={"domain": "ph.shared-proxy.com"}, headers=a.headers
    )
    assert created.status_code == 201, created.text
    a_id = created.json()["id"]
    before = await _stored(runtime, ProxyRecord)

    # One proxy answers for one domain: the other organization is refused, with any spelling.
    for domain in ("ph.shared-proxy.com", "PH.Shared-Proxy.com."):
        refused = await client.post(
            f"{b.org_base}/proxy_records/", json={"domain": domain}, headers=b.headers
        )
        assert refused.status_code == 400 and refused.json()["code"] == "unique", refused.text
    assert (await client.get(f"{b.org_base}/proxy_records/{a_id}/", headers=b.headers)).status_code == 404
    assert (await client.delete(f"{b.org_base}/proxy_records/{a_id}/", headers=b.headers)).status_code == 404
    assert await _stored(runtime, ProxyRecord) == before

    own = await client.post(
        f"{b.org_base}/proxy_records/", json={"domain": "ph.b-proxy.com"}, headers=b.headers
    )
    assert own.status_code == 201
    for tenant, expected in ((a, [a_id]), (b, [own.json()["id"]])):
        listed = (await client.get(f"{tenant.org_base}/proxy_records/", headers=tenant.headers)).json()
        assert [r["id"] for r in listed["results"]] == expected
        assert listed["results"][0]["created_by"]["id"] == tenant.user.id
    assert own.json()["target_cname"] != created.json()["target_cname"]
    assert {k: v for k, v in (await _stored(runtime, ProxyRecord)).items() if str(k) == a_id} == before


async def _link(
    client: httpx.AsyncClient, sandbox: SandboxServer, tenant: Tenant, installation_id: str
) -> httpx.Response:
    """The whole "link existing account" flow for `installation_id`, finished by `tenant`."""
    code = sim.issue_code(sandbox.state, installation_id, redirect_uri=REDIRECT_URI)
    back = await client.get(
        "/connect/vercel/callback", params={"code": code, "configurationId": installation_id}
    )
    assert back.status_code == 302, back.text
    session = parse_qs(urlparse(back.headers["location"]).query)["session"][0]
    body = {"session": session, "organization_id": str(tenant.organization.id), "team_id": tenant.project.id}
    return await client.post("/api/vercel/connect/complete/", json=body, headers=tenant.headers)


async def test_same_vercel_installation_linked_by_two_organizations(
    client: httpx.AsyncClient, runtime: Runtime, factory: Factory, sandbox: SandboxServer
) -> None:
    a, b = await factory.tenant(), await factory.tenant()
    installation_id = sim.new_installation_id()
    assert (await _link(client, sandbox, a, installation_id)).status_code == 201
    before = await _stored(runtime, OrganizationIntegration)
    (a_row,) = before.values()
    a_projects = [_columns(r) for r in await vercel_project_integrations(runtime, a.organization)]

    linked = await _link(client, sandbox, b, installation_id)
    assert linked.status_code == 201, linked.text
    after = await _stored(runtime, OrganizationIntegration)
    assert {k: v for k, v in after.items() if k == a_row["id"]} == before
    (b_row,) = (v for k, v in after.items() if k != a_row["id"])
    assert b_row["organization_id"] == b.organization.id and b_row["created_by_id"] == b.user.id
    assert b_row["integration_id"] == installation_id
    # Each link holds the token its own exchange returned.
    a_token = a_row["sensitive_config"]["credentials"]["access_token"]
    assert b_row["sensitive_config"]["credentials"]["access_token"] != a_token
    assert [_columns(r) for r in await vercel_project_integrations(runtime, a.organization)] == a_projects
    assert [r.project_id for r in await vercel_project_integrations(runtime, b.organization)] == [
        b.project.id
    ]

    for tenant, own, other in ((a, a_row, b_row), (b, b_row, a_row)):
        listed = (await client.get(f"{tenant.org_base}/integrations/", headers=tenant.headers)).json()
        assert [r["id"] for r in listed["results"]] == [str(own["id"])]
        assert listed["results"][0]["created_by"]["id"] == tenant.user.id
        assert a_token not in str(listed)
        foreign = await client.get(f"{tenant.org_base}/integrations/{other['id']}/", headers=tenant.headers)
        assert foreign.status_code == 404


async def _put(
    client: httpx.AsyncClient, sandbox: SandboxServer, installation_id: str, body: dict[str, Any]
) -> int:
    token = sim.mint_oidc_token(sandbox.state, installation_id=installation_id)
    response = await client.put(
        f"/api/vercel/v1/installations/{installation_id}",
        json=body,
        headers={"Authorization": f"Bearer {token}", "X-Vercel-Auth": "user"},
    )
    return response.status_code


async def test_repeated_installation_hands_the_organization_to_nobody_new(
    client: httpx.AsyncClient, runtime: Runtime, sandbox: SandboxServer
) -> None:
    first, other = sim.new_installation_id(), sim.new_installation_id()
    assert await _put(client, sandbox, first, installation_body()) == 204
    (row,) = await rows(runtime, OrganizationIntegration)
    members = [_columns(m) for m in await rows(runtime, OrganizationMembership)]

    # Vercel sends the same installation again, naming another contact: same row, same organization,
    # same creator, and the new contact gains nothing.
    body = installation_body()
    body["account"]["contact"] = {"email": "intruder@example.com", "name": "Intruder"}
    body["credentials"]["access_token"] = "matrix-vercel-token-2"
    assert await _put(client, sandbox, first, body) == 204
    (again,) = await rows(runtime, OrganizationIntegration)
    assert (again.id, again.organization_id, again.created_by_id) == (
        row.id,
        row.organization_id,
        row.created_by_id,
    )
    assert (
        runtime.keyring.decrypt_json(again.sensitive_config)["credentials"]["access_token"]
        == "matrix-vercel-token-2"
    )
    assert [_columns(m) for m in await rows(runtime, OrganizationMembership)] == members
    assert len(await rows(runtime, Organization)) == 1

    # Another installation by the same contact is another organization; the first row stays as it was.
    before = _columns(again)
    assert await _put(client, sandbox, other, installation_body()) == 204
    assert len(await rows(runtime, Organization)) == 2
    async with runtime.db.session() as session:
        kept = await session.scalar(
            select(OrganizationIntegration).where(OrganizationIntegration.id == row.id)
        )
    assert kept is not None and _columns(kept) == before


async def test_environment_mapping_stays_in_its_organization(
    client: httpx.AsyncClient, runtime: Runtime, factory: Factory, sandbox: SandboxServer
) -> None:
    a, b = await factory.tenant(), await factory.tenant()
    mapped = {}
    for tenant in (a, b):
        installation_id = sim.new_installation_id()
        token = sim.add_installation(sandbox.state, installation_id)
        row = await org_integration(
            runtime,
            tenant.organization,
            installation_id=installation_id,
            access_token=token,
            created_by=tenant.user,
        )
        path = f"{tenant.org_base}/integrations/{row.id}/environment-mapping/"
        response = await client.patch(path, json={"production": tenant.project.id}, headers=tenant.headers)
        assert response.status_code == 200, response.text
        mapped[tenant.project.id] = (path, await _stored(runtime, Integration))

    b_path, snapshot = mapped[b.project.id]
    refused = await client.patch(b_path, json={"production": a.project.id}, headers=b.headers)
    assert refused.status_code == 400
    assert refused.json()["detail"] == f"Project {a.project.id} does not belong to this organization."
    assert await _stored(runtime, Integration) == snapshot
    for tenant in (a, b):
        (resource,) = await vercel_project_integrations(runtime, tenant.organization)
        assert resource.project_id == tenant.project.id and resource.created_by_id == tenant.user.id
