"""GET list/retrieve, DELETE and PostHog's 401/403/404/405 on /api/organizations/{id}/integrations."""

from __future__ import annotations

import uuid

import httpx

from patchbay.models import Integration, MembershipLevel, OrganizationIntegration
from patchbay.runtime import Runtime
from tests.support.factory import Factory, Tenant
from tests.vercel.helpers import ACCESS_SENTINEL, org_integration, rows, vercel_project_integrations

NOT_FOUND = {"type": "invalid_request", "code": "not_found", "detail": "Not found.", "attr": None}


async def test_list_and_retrieve_never_show_credentials(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    first = await org_integration(
        runtime,
        tenant.organization,
        config={"type": "connectable", "vercel_team_id": "team_1"},
        created_by=tenant.user,
    )
    second = await org_integration(runtime, tenant.organization, config={"scopes": ["read"]})

    listed = await client.get(f"{tenant.org_base}/integrations/", headers=tenant.headers)
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["count"] == 2 and body["next"] is None and body["previous"] is None
    assert [r["id"] for r in body["results"]] == [str(first.id), str(second.id)]
    item = body["results"][0]
    assert set(item) == {"id", "kind", "integration_id", "config", "created_at", "updated_at", "created_by"}
    assert item["kind"] == "vercel" and item["integration_id"] == first.integration_id
    assert item["config"] == {"type": "connectable", "vercel_team_id": "team_1"}
    assert set(item["created_by"]) == {
        "id", "uuid", "distinct_id", "first_name", "last_name", "email",
        "is_email_verified", "hedgehog_config", "role_at_organization",
    }  # fmt: skip
    assert item["created_by"]["email"] == tenant.user.email
    assert body["results"][1]["created_by"] is None
    assert ACCESS_SENTINEL not in listed.text

    got = await client.get(f"{tenant.org_base}/integrations/{first.id}", headers=tenant.headers)
    assert got.status_code == 200
    assert got.json() == item
    assert ACCESS_SENTINEL not in got.text


async def test_pagination_links_are_absolute(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    for _ in range(3):
        await org_integration(runtime, tenant.organization)
    page = await client.get(f"{tenant.org_base}/integrations/?limit=2", headers=tenant.headers)
    body = page.json()
    assert body["count"] == 3 and len(body["results"]) == 2
    assert body["next"] == f"http://testserver{tenant.org_base}/integrations/?limit=2&offset=2"
    last = await client.get(body["next"], headers=tenant.headers)
    assert len(last.json()["results"]) == 1 and last.json()["next"] is None


async def test_current_organization_alias(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    row = await org_integration(runtime, tenant.organization)
    listed = await client.get("/api/organizations/@current/integrations/", headers=tenant.headers)
    assert listed.status_code == 200
    assert [r["id"] for r in listed.json()["results"]] == [str(row.id)]


async def test_not_found_answers(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, runtime: Runtime
) -> None:
    other = await factory.tenant()
    foreign = await org_integration(runtime, other.organization)
    for path in (f"/integrations/{uuid.uuid4()}", "/integrations/not-a-uuid", f"/integrations/{foreign.id}"):
        response = await client.get(tenant.org_base + path, headers=tenant.headers)
        assert response.status_code == 404, path
        assert response.json() == NOT_FOUND
    bad_org = await client.get("/api/organizations/nope/integrations/", headers=tenant.headers)
    assert bad_org.status_code == 404
    assert bad_org.json()["detail"] == "Organization not found."
    # The other organization's list is not reachable with this key.
    response = await client.get(f"{other.org_base}/integrations/", headers=tenant.headers)
    assert response.status_code in (403, 404)
    assert foreign.integration_id not in response.text


async def test_unauthenticated_is_401(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.get(f"{tenant.org_base}/integrations/")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {
        "type": "authentication_error",
        "code": "not_authenticated",
        "detail": "Authentication credentials were not provided.",
        "attr": None,
    }


async def test_methods_not_allowed(client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime) -> None:
    row = await org_integration(runtime, tenant.organization)
    post = await client.post(
        f"{tenant.org_base}/integrations/", json={"kind": "vercel"}, headers=tenant.headers
    )
    assert post.status_code == 405
    assert post.json() == {
        "type": "invalid_request",
        "code": "method_not_allowed",
        "detail": 'Method "POST" not allowed.',
        "attr": None,
    }
    for method in ("PUT", "PATCH"):
        response = await client.request(
            method, f"{tenant.org_base}/integrations/{row.id}/", json={}, headers=tenant.headers
        )
        assert response.status_code == 405
        assert response.json()["detail"] == f'Method "{method}" not allowed.'


async def test_scopes(client: httpx.AsyncClient, tenant: Tenant, factory: Factory, runtime: Runtime) -> None:
    row = await org_integration(runtime, tenant.organization)
    base = f"{tenant.org_base}/integrations"

    wrong = await factory.key(tenant.user, ["integration:read"])
    response = await client.get(f"{base}/", headers={"Authorization": f"Bearer {wrong}"})
    assert response.status_code == 403
    assert response.json()["detail"] == "API key missing required scope 'organization_integration:read'"

    read_only = await factory.key(tenant.user, ["organization_integration:read"])
    headers = {"Authorization": f"Bearer {read_only}"}
    assert (await client.get(f"{base}/{row.id}", headers=headers)).status_code == 200
    denied = await client.delete(f"{base}/{row.id}", headers=headers)
    assert denied.status_code == 403
    assert denied.json()["detail"] == "API key missing required scope 'organization_integration:write'"
    mapping = await client.patch(
        f"{base}/{row.id}/environment-mapping/", json={"production": 1}, headers=headers
    )
    assert mapping.status_code == 403

    writer = await factory.key(tenant.user, ["organization_integration:write"])
    assert (await client.get(f"{base}/", headers={"Authorization": f"Bearer {writer}"})).status_code == 200


async def test_keys_scoped_to_projects_are_refused(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory
) -> None:
    key = await factory.key(tenant.user, scoped_projects=[tenant.project.id])
    response = await client.get(
        f"{tenant.org_base}/integrations/", headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 403
    assert response.json() == {
        "type": "authentication_error",
        "code": "permission_denied",
        "detail": "API keys with scoped projects are only supported on project-based endpoints.",
        "attr": None,
    }


async def test_keys_scoped_to_other_organizations_are_refused(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory
) -> None:
    other_org = await factory.organization(tenant.user)
    key = await factory.key(tenant.user, scoped_organizations=[str(other_org.id)])
    response = await client.get(
        f"{tenant.org_base}/integrations/", headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 403
    assert response.json()["detail"] == (
        f"API key does not have access to the requested organization: ID {tenant.organization.id}."
    )


async def test_delete_needs_an_admin_and_removes_project_integrations(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, runtime: Runtime
) -> None:
    row = await org_integration(runtime, tenant.organization)
    vercel_resource = await factory.integration(
        tenant.project, kind="vercel", integration_id=str(tenant.project.id)
    )
    other_kind = await factory.integration(tenant.project, kind="twilio")
    # A Vercel integration of another organization's project stays.
    other = await factory.tenant()
    foreign_resource = await factory.integration(other.project, kind="vercel")

    member = await factory.member_of(tenant, MembershipLevel.MEMBER)
    listed = await client.get(f"{tenant.org_base}/integrations/", headers=member.headers)
    assert listed.status_code == 200 and listed.json()["count"] == 1
    denied = await client.delete(f"{tenant.org_base}/integrations/{row.id}/", headers=member.headers)
    assert denied.status_code == 403
    assert denied.json()["detail"] == "Your organization access level is insufficient."
    assert len(await rows(runtime, OrganizationIntegration)) == 1

    admin = await factory.member_of(tenant, MembershipLevel.ADMIN)
    deleted = await client.delete(f"{tenant.org_base}/integrations/{row.id}/", headers=admin.headers)
    assert deleted.status_code == 204 and deleted.content == b""
    assert await rows(runtime, OrganizationIntegration, OrganizationIntegration.id == row.id) == []
    assert await vercel_project_integrations(runtime, tenant.organization) == []
    remaining = {r.id for r in await rows(runtime, Integration)}
    assert vercel_resource.id not in remaining
    assert {other_kind.id, foreign_resource.id} <= remaining

    again = await client.delete(f"{tenant.org_base}/integrations/{row.id}/", headers=admin.headers)
    assert again.status_code == 404
