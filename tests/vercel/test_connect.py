"""Linking an existing Vercel account: /connect/vercel/callback (code exchange at the simulator, an
encrypted single-use link session) and POST /api/vercel/connect/complete/."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from sqlalchemy import update

from patchbay.models import Integration, LinkSession, MembershipLevel, OrganizationIntegration
from patchbay.providers.vercel import simulator as sim
from patchbay.runtime import Runtime
from patchbay.sandbox.server import SandboxServer
from tests.support.factory import Factory, Tenant
from tests.vercel.helpers import org_integration, rows, vercel_project_integrations

CALLBACK = "/connect/vercel/callback"
COMPLETE = "/api/vercel/connect/complete/"
REDIRECT_URI = "http://testserver/connect/vercel/callback"


async def _session(client: httpx.AsyncClient, sandbox: SandboxServer, **query: str) -> tuple[str, str]:
    """Runs the callback for a fresh code; returns (session, installation id)."""
    installation_id = sim.new_installation_id()
    code = sim.issue_code(sandbox.state, installation_id, redirect_uri=REDIRECT_URI)
    response = await client.get(CALLBACK, params={"code": code, "configurationId": installation_id, **query})
    assert response.status_code == 302, response.text
    location = urlparse(response.headers["location"])
    assert location.path == "/connect/vercel/link"
    return parse_qs(location.query)["session"][0], installation_id


def _body(session: str, tenant: Tenant, **extra: Any) -> dict[str, Any]:
    return {
        "session": session,
        "organization_id": str(tenant.organization.id),
        "team_id": tenant.project.id,
        **extra,
    }


async def test_link_flow_end_to_end(
    client: httpx.AsyncClient,
    tenant: Tenant,
    runtime: Runtime,
    sandbox: SandboxServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    session, installation_id = await _session(client, sandbox, next="https://vercel.com/acme/integrations")

    (link,) = await rows(runtime, LinkSession)
    assert link.token != session and len(link.token) == 64  # only a hash of the session is stored
    stored = runtime.keyring.decrypt_json(link.payload)
    access_token = stored["access_token"]
    assert access_token.startswith("vercel-access-") and access_token not in link.payload
    expires = link.expires_at if link.expires_at.tzinfo else link.expires_at.replace(tzinfo=UTC)
    assert timedelta(minutes=9) < expires - datetime.now(UTC) <= timedelta(minutes=10)

    page = await client.get(f"/connect/vercel/link?session={session}")
    assert page.status_code == 200 and "/api/vercel/connect/complete/" in page.text

    response = await client.post(COMPLETE, json=_body(session, tenant), headers=tenant.headers)
    assert response.status_code == 201, response.text
    assert response.json() == {
        "status": "linked",
        "organization_id": str(tenant.organization.id),
        "organization_name": tenant.organization.name,
        "next_url": "https://vercel.com/acme/integrations",
        "secrets_synced": True,
    }
    (row,) = await rows(runtime, OrganizationIntegration)
    assert row.integration_id == installation_id and row.created_by_id == tenant.user.id
    assert row.config == {
        "type": "connectable",
        "vercel_team_id": "team_LLHUOMOoDlqOp8wPE4kFo9pE",
        "vercel_user_id": "2qDDuGFTWXBLDNnqZfWPDp1A",
        "configuration_id": installation_id,
        "user_mappings": {"2qDDuGFTWXBLDNnqZfWPDp1A": tenant.user.id},
    }
    assert runtime.keyring.decrypt_json(row.sensitive_config)["credentials"]["access_token"] == access_token
    (resource,) = await vercel_project_integrations(runtime, tenant.organization)
    assert resource.project_id == tenant.project.id and resource.integration_id == str(tenant.project.id)

    (imported,) = sim.resources(sandbox.state).values()
    assert imported["installation_id"] == installation_id and imported["resource_id"] == str(resource.id)
    secrets = {s["name"]: s["value"] for s in imported["secrets"]}
    assert secrets["NEXT_PUBLIC_POSTHOG_PROJECT_TOKEN"] == tenant.project.api_token

    listed = await client.get(f"{tenant.org_base}/integrations/", headers=tenant.headers)
    assert listed.json()["results"][0]["config"]["type"] == "connectable"
    assert access_token not in listed.text and access_token not in caplog.text

    # The environment mapping then works on the linked installation.
    mapped = await client.patch(
        f"{tenant.org_base}/integrations/{row.id}/environment-mapping/",
        json={"production": tenant.project.id},
        headers=tenant.headers,
    )
    assert mapped.status_code == 200, mapped.text

    reused = await client.post(COMPLETE, json=_body(session, tenant), headers=tenant.headers)
    assert reused.status_code == 400
    assert reused.json()["detail"] == "Session already used. Please try linking again from Vercel."


async def test_expired_and_unknown_sessions(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    session, _ = await _session(client, sandbox)
    async with runtime.db.transaction() as db:
        await db.execute(update(LinkSession).values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    for value in (session, "made-up-session"):
        response = await client.post(COMPLETE, json=_body(value, tenant), headers=tenant.headers)
        assert response.status_code == 400
        assert (
            response.json()["detail"] == "Session expired or invalid. Please try linking again from Vercel."
        )
    assert await rows(runtime, OrganizationIntegration) == []


async def test_callback_failures(client: httpx.AsyncClient, runtime: Runtime, sandbox: SandboxServer) -> None:
    missing = await client.get(CALLBACK)
    assert missing.status_code == 400 and missing.json()["detail"] == "Missing code parameter"

    bad = await client.get(CALLBACK, params={"code": "code-never-issued"})
    assert bad.status_code == 400
    assert bad.json()["code"] == "vercel_authentication_failed"

    code = sim.issue_code(sandbox.state, redirect_uri=REDIRECT_URI)
    sandbox.state.inject("vercel", "500", count=3, path_contains="/oauth/")
    outage = await client.get(CALLBACK, params={"code": code})
    assert outage.status_code == 502
    assert await rows(runtime, LinkSession) == []

    # Codes are single-use at Vercel: the second exchange of the same code fails.
    code = sim.issue_code(sandbox.state, redirect_uri=REDIRECT_URI)
    assert (await client.get(CALLBACK, params={"code": code})).status_code == 302
    assert (await client.get(CALLBACK, params={"code": code})).status_code == 400


async def test_next_only_goes_back_to_vercel(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    session, _ = await _session(client, sandbox, next="https://evil.example/phish")
    response = await client.post(COMPLETE, json=_body(session, tenant), headers=tenant.headers)
    assert response.status_code == 201
    assert response.json()["next_url"] == ""


async def test_only_admins_of_the_organization_may_link(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, runtime: Runtime, sandbox: SandboxServer
) -> None:
    session, _ = await _session(client, sandbox)
    member = await factory.member_of(tenant, MembershipLevel.MEMBER)
    response = await client.post(COMPLETE, json=_body(session, tenant), headers=member.headers)
    assert response.status_code == 403
    assert response.json()["detail"] == "You must be an admin or owner to link this organization."

    stranger = await factory.tenant()
    response = await client.post(COMPLETE, json=_body(session, tenant), headers=stranger.headers)
    assert response.status_code == 403
    assert response.json()["detail"] == "You are not a member of this organization."

    unauthenticated = await client.post(COMPLETE, json=_body(session, tenant))
    assert unauthenticated.status_code == 401

    read_only = await factory.key(tenant.user, ["organization_integration:read"])
    scoped = await client.post(
        COMPLETE, json=_body(session, tenant), headers={"Authorization": f"Bearer {read_only}"}
    )
    assert scoped.status_code == 403

    # Refusals did not use the session up: the admin can still finish.
    admin = await factory.member_of(tenant, MembershipLevel.ADMIN)
    response = await client.post(COMPLETE, json=_body(session, tenant), headers=admin.headers)
    assert response.status_code == 201, response.text


async def test_project_and_existing_link_checks(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, runtime: Runtime, sandbox: SandboxServer
) -> None:
    other = await factory.tenant()
    session, _ = await _session(client, sandbox)
    foreign = await client.post(
        COMPLETE, json=_body(session, tenant, team_id=other.project.id), headers=tenant.headers
    )
    assert foreign.status_code == 400
    assert foreign.json()["detail"] == "The selected project does not belong to this organization."

    await factory.integration(tenant.project, kind="vercel", integration_id=str(tenant.project.id))
    taken = await client.post(COMPLETE, json=_body(session, tenant), headers=tenant.headers)
    assert taken.status_code == 400
    assert taken.json()["detail"] == "This project already has a Vercel integration."

    second_project = await factory.project(tenant.organization)
    # An installation Vercel still knows blocks a second link ...
    live_id = sim.new_installation_id()
    live_token = sim.add_installation(sandbox.state, live_id, team_id=None)
    live = await org_integration(
        runtime, tenant.organization, installation_id=live_id, access_token=live_token
    )
    blocked = await client.post(
        COMPLETE, json=_body(session, tenant, team_id=second_project.id), headers=tenant.headers
    )
    assert blocked.status_code == 400
    assert blocked.json()["detail"].startswith("This organization already has a Vercel integration.")

    # ... one Vercel has forgotten (403/404) is replaced.
    sim.remove_installation(sandbox.state, live_id)
    linked = await client.post(
        COMPLETE, json=_body(session, tenant, team_id=second_project.id), headers=tenant.headers
    )
    assert linked.status_code == 201, linked.text
    remaining = await rows(runtime, OrganizationIntegration)
    assert len(remaining) == 1 and remaining[0].id != live.id
    assert (await rows(runtime, Integration, Integration.project_id == second_project.id))[0].kind == "vercel"


async def test_body_is_validated(client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxServer) -> None:
    session, _ = await _session(client, sandbox)
    no_project = await client.post(
        COMPLETE,
        json={"session": session, "organization_id": str(tenant.organization.id)},
        headers=tenant.headers,
    )
    assert no_project.status_code == 400 and no_project.json()["attr"] == "team_id"
    bad_org = await client.post(
        COMPLETE, json={"session": session, "organization_id": "x", "team_id": 1}, headers=tenant.headers
    )
    assert bad_org.status_code == 400 and bad_org.json()["attr"] == "organization_id"
    # project_id is accepted as an alias of team_id
    aliased = await client.post(
        COMPLETE,
        json={
            "session": session,
            "organization_id": str(tenant.organization.id),
            "project_id": tenant.project.id,
        },
        headers=tenant.headers,
    )
    assert aliased.status_code == 201


async def test_import_failure_does_not_undo_the_link(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    session, _ = await _session(client, sandbox)
    sandbox.state.inject("vercel", "403", count=1, path_contains="/resources/")
    response = await client.post(COMPLETE, json=_body(session, tenant), headers=tenant.headers)
    assert response.status_code == 201
    assert response.json()["secrets_synced"] is False
    assert len(await rows(runtime, OrganizationIntegration)) == 1
