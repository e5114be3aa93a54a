"""PATCH …/integrations/{id}/environment-mapping/: validation, project integrations, and the tokens
pushed to the Vercel simulator's resource import API (with outages retried and reported)."""

from __future__ import annotations

from typing import Any

import httpx

from patchbay.models import MembershipLevel, OrganizationIntegration
from patchbay.providers.vercel import simulator as sim
from patchbay.runtime import Runtime
from patchbay.sandbox.server import SandboxServer, free_port
from tests.support.factory import Factory, Tenant
from tests.vercel.helpers import (
    client_with,
    org_integration,
    rows,
    vercel_project_integrations,
    vercel_settings,
)


def _path(tenant: Tenant, row: OrganizationIntegration) -> str:
    return f"{tenant.org_base}/integrations/{row.id}/environment-mapping/"


async def _linked(
    runtime: Runtime, tenant: Tenant, sandbox: SandboxServer, team_id: str | None = "team_x"
) -> Any:
    installation_id = sim.new_installation_id()
    token = sim.add_installation(sandbox.state, installation_id, team_id=team_id)
    row = await org_integration(
        runtime,
        tenant.organization,
        installation_id=installation_id,
        access_token=token,
        config={"type": "connectable", "vercel_team_id": team_id},
    )
    return row


def _secrets(
    sandbox: SandboxServer, row: OrganizationIntegration, resource_id: str | None = None
) -> dict[str, dict[str, Any]]:
    found = [
        r
        for r in sim.resources(sandbox.state).values()
        if r["installation_id"] == row.integration_id and resource_id in (None, r["resource_id"])
    ]
    assert len(found) == 1, found
    return {s["name"]: s for s in found[0]["secrets"]}


async def _stored_mapping(runtime: Runtime, row: OrganizationIntegration) -> Any:
    (fresh,) = await rows(runtime, OrganizationIntegration, OrganizationIntegration.id == row.id)
    return fresh.config.get("environment_mapping")


async def test_mapping_pushes_each_projects_token(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, runtime: Runtime, sandbox: SandboxServer
) -> None:
    preview = await factory.project(tenant.organization, name="Preview project")
    row = await _linked(runtime, tenant, sandbox)

    response = await client.patch(
        _path(tenant, row),
        json={"production": tenant.project.id, "preview": preview.id},
        headers=tenant.headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    mapping = {"production": tenant.project.id, "preview": preview.id, "development": tenant.project.id}
    assert body["config"]["environment_mapping"] == mapping
    assert body["id"] == str(row.id) and "credentials" not in response.text
    assert await _stored_mapping(runtime, row) == mapping

    resources = await vercel_project_integrations(runtime, tenant.organization)
    assert sorted(r.project_id for r in resources) == sorted([tenant.project.id, preview.id])
    assert all(
        r.config == {"type": "connectable"} and r.integration_id == str(r.project_id) for r in resources
    )

    pushed = _secrets(sandbox, row)
    token = pushed["NEXT_PUBLIC_POSTHOG_PROJECT_TOKEN"]
    assert token["value"] == tenant.project.api_token and token["value"].startswith("phc_")
    assert token["environmentOverrides"] == {
        "production": tenant.project.api_token,
        "preview": preview.api_token,
        "development": tenant.project.api_token,
    }
    assert pushed["NEXT_PUBLIC_POSTHOG_HOST"]["value"] == "http://testserver"
    assert {"VITE_POSTHOG_PROJECT_TOKEN", "NUXT_PUBLIC_POSTHOG_HOST", "PUBLIC_POSTHOG_PROJECT_TOKEN"} <= set(
        pushed
    )
    (resource,) = sim.resources(sandbox.state).values()
    production_resource = next(r for r in resources if r.project_id == tenant.project.id)
    assert resource["resource_id"] == str(production_resource.id)
    assert resource["name"] == tenant.project.name and resource["status"] == "ready"

    # Mapping again keeps the project integrations (no duplicates) and replaces the mapping.
    again = await client.patch(_path(tenant, row), json={"production": preview.id}, headers=tenant.headers)
    assert again.status_code == 200
    assert again.json()["config"]["environment_mapping"] == {
        "production": preview.id,
        "preview": preview.id,
        "development": preview.id,
    }
    resources = await vercel_project_integrations(runtime, tenant.organization)
    assert len(resources) == 2
    preview_resource = next(r for r in resources if r.project_id == preview.id)
    moved = _secrets(sandbox, row, str(preview_resource.id))["VITE_POSTHOG_PROJECT_TOKEN"]
    assert moved["value"] == preview.api_token and "environmentOverrides" not in moved


async def test_only_connectable_integrations(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    row = await org_integration(runtime, tenant.organization, config={"scopes": ["read"]})
    response = await client.patch(
        _path(tenant, row), json={"production": tenant.project.id}, headers=tenant.headers
    )
    assert response.status_code == 400
    assert response.json() == {
        "type": "validation_error",
        "code": "invalid_input",
        "detail": "Environment mapping is only supported for connectable integrations.",
        "attr": None,
    }


async def test_body_validation(client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime) -> None:
    row = await org_integration(runtime, tenant.organization)
    missing = await client.patch(
        _path(tenant, row), json={"preview": tenant.project.id}, headers=tenant.headers
    )
    assert missing.status_code == 400
    assert missing.json() == {
        "type": "validation_error",
        "code": "required",
        "detail": "This field is required.",
        "attr": "production",
    }
    bad = await client.patch(_path(tenant, row), json={"production": "abc"}, headers=tenant.headers)
    assert bad.json() == {
        "type": "validation_error",
        "code": "invalid_input",
        "detail": "A valid integer is required.",
        "attr": "production",
    }
    bad_preview = await client.patch(
        _path(tenant, row), json={"production": tenant.project.id, "preview": True}, headers=tenant.headers
    )
    assert bad_preview.json()["attr"] == "preview"
    not_json = await client.patch(
        _path(tenant, row), content=b"{nope", headers={**tenant.headers, "Content-Type": "application/json"}
    )
    assert not_json.status_code == 400 and not_json.json()["code"] == "parse_error"
    assert await _stored_mapping(runtime, row) is None


async def test_projects_of_another_organization_are_refused(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, runtime: Runtime, sandbox: SandboxServer
) -> None:
    other = await factory.tenant()
    row = await _linked(runtime, tenant, sandbox)
    for body, bad in (
        ({"production": other.project.id}, other.project.id),
        ({"production": tenant.project.id, "development": other.project.id}, other.project.id),
        ({"production": 2**40}, 2**40),
    ):
        response = await client.patch(_path(tenant, row), json=body, headers=tenant.headers)
        assert response.status_code == 400, body
        assert response.json() == {
            "type": "validation_error",
            "code": "invalid_input",
            "detail": f"Project {bad} does not belong to this organization.",
            "attr": None,
        }
    assert await _stored_mapping(runtime, row) is None
    assert await vercel_project_integrations(runtime, tenant.organization) == []
    assert await vercel_project_integrations(runtime, other.organization) == []
    assert sim.resources(sandbox.state) == {}


async def test_members_cannot_map(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, runtime: Runtime
) -> None:
    row = await org_integration(runtime, tenant.organization)
    member = await factory.member_of(tenant, MembershipLevel.MEMBER)
    response = await client.patch(
        _path(tenant, row), json={"production": tenant.project.id}, headers=member.headers
    )
    assert response.status_code == 403
    assert response.json()["detail"] == "Your organization access level is insufficient."


async def test_outages_are_retried(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    row = await _linked(runtime, tenant, sandbox)
    sandbox.state.inject("vercel", "500", count=2, path_contains="/resources/")
    response = await client.patch(
        _path(tenant, row), json={"production": tenant.project.id}, headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    assert sandbox.state.count_calls("vercel", "/resources/", "PUT") == 3
    assert _secrets(sandbox, row)["NEXT_PUBLIC_POSTHOG_PROJECT_TOKEN"]["value"] == tenant.project.api_token


async def test_a_lasting_outage_is_reported_and_the_mapping_kept(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    row = await _linked(runtime, tenant, sandbox)
    sandbox.state.inject("vercel", "503", count=10, path_contains="/resources/")
    response = await client.patch(
        _path(tenant, row), json={"production": tenant.project.id}, headers=tenant.headers
    )
    assert response.status_code == 502
    body = response.json()
    assert body["type"] == "server_error" and body["code"] == "provider_unavailable"
    assert body["detail"].startswith(
        "The environment mapping was saved, but pushing the project tokens to Vercel"
    )
    assert sandbox.state.count_calls("vercel", "/resources/", "PUT") == 3  # bounded
    assert await _stored_mapping(runtime, row) == {
        "production": tenant.project.id,
        "preview": tenant.project.id,
        "development": tenant.project.id,
    }
    assert sim.resources(sandbox.state) == {}

    # Once Vercel is back, saving again pushes the tokens.
    sandbox.state.clear_faults()
    retry = await client.patch(
        _path(tenant, row), json={"production": tenant.project.id}, headers=tenant.headers
    )
    assert retry.status_code == 200
    assert _secrets(sandbox, row)


async def test_unreachable_vercel_is_503(
    runtime: Runtime, make_settings: Any, sandbox_server: SandboxServer
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    settings = vercel_settings(
        make_settings, sandbox_server, kind_overrides={"PATCHBAY_VERCEL_API_URL": closed}
    )
    async with client_with(settings) as (client, own):
        tenant = await Factory(own).tenant()
        row = await org_integration(own, tenant.organization)
        response = await client.patch(
            _path(tenant, row), json={"production": tenant.project.id}, headers=tenant.headers
        )
        assert response.status_code == 503
        assert response.json()["code"] == "provider_unreachable"
        assert "saved" in response.json()["detail"]
        assert (await _stored_mapping(own, row))["production"] == tenant.project.id


async def test_rate_limits_and_revoked_credentials(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    row = await _linked(runtime, tenant, sandbox)
    sandbox.state.inject("vercel", "429", count=1, path_contains="/resources/", retry_after=9)
    limited = await client.patch(
        _path(tenant, row), json={"production": tenant.project.id}, headers=tenant.headers
    )
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "9"
    assert limited.json()["type"] == "throttled_error"

    sim.remove_installation(sandbox.state, row.integration_id or "")
    revoked = await client.patch(
        _path(tenant, row), json={"production": tenant.project.id}, headers=tenant.headers
    )
    assert revoked.status_code == 400
    assert revoked.json()["code"] == "vercel_integration_inactive"
    assert "saved" in revoked.json()["detail"]


async def test_team_installs_send_the_team_id(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    # The simulator refuses calls of a team token without ?teamId=: a 200 shows it was sent.
    row = await _linked(runtime, tenant, sandbox, team_id="team_abc")
    response = await client.patch(
        _path(tenant, row), json={"production": tenant.project.id}, headers=tenant.headers
    )
    assert response.status_code == 200
    assert _secrets(sandbox, row)
