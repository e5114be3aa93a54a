"""The organization, email-sender, Vercel and proxy-record pages over plain HTTP, and the rule every
console POST follows: no CSRF token, nothing happens."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from patchbay.models import MembershipLevel, ProxyRecord, User
from patchbay.providers.vercel import simulator as vercel_sim
from patchbay.runtime import Runtime
from patchbay.sandbox.server import SandboxServer
from tests.console.helpers import signed_in
from tests.security.route_matrix import served_routes
from tests.support.factory import Factory, Tenant
from tests.vercel.helpers import org_integration


async def test_organizations_page_and_current_project(
    client: httpx.AsyncClient, runtime: Runtime, factory: Factory, tenant: Tenant
) -> None:
    second = await factory.project(tenant.organization)
    token = await signed_in(client, runtime, tenant)
    page = await client.get("/console/organizations")
    assert tenant.organization.name in page.text and second.name in page.text and "Owner" in page.text
    done = await client.post(f"/console/projects/{second.id}/current", data={"csrf_token": token})
    assert done.status_code == 303
    async with runtime.db.session() as session:
        assert (
            await session.scalar(select(User.current_project_id).where(User.id == tenant.user.id))
            == second.id
        )
    assert (await client.get("/console")).headers["location"] == f"/console/projects/{second.id}/integrations"
    stranger = await factory.tenant()
    refused = await client.post(
        f"/console/projects/{stranger.project.id}/current", data={"csrf_token": token}
    )
    assert refused.status_code == 403


async def test_email_senders_page_checks_records(
    client: httpx.AsyncClient, runtime: Runtime, factory: Factory, tenant: Tenant
) -> None:
    config = {"email": "hi@mail.example", "domain": "mail.example", "mail_from_subdomain": "feedback",
              "name": "Hi", "provider": "maildev", "verified": False}  # fmt: skip
    row = await factory.integration(tenant.project, "email", "hi@mail.example", config, {}, tenant.user)
    token = await signed_in(client, runtime, tenant)
    base = f"/console/projects/{tenant.project.id}/email-senders"
    page = await client.get(base)
    assert "mail.example" in page.text and "Set up DNS with Domain Connect" in page.text
    checked = await client.post(f"{base}/{row.id}/verify", data={"csrf_token": token})
    assert checked.status_code == 200 and "DNS records" in checked.text and "success" in checked.text


async def test_vercel_mapping_and_proxy_records(
    client: httpx.AsyncClient, runtime: Runtime, factory: Factory, sandbox: SandboxServer, tenant: Tenant
) -> None:
    installation_id = vercel_sim.new_installation_id()
    token_value = vercel_sim.add_installation(sandbox.state, installation_id)
    row = await org_integration(
        runtime,
        tenant.organization,
        installation_id=installation_id,
        access_token=token_value,
        created_by=tenant.user,
    )
    token = await signed_in(client, runtime, tenant)
    org = f"/console/organizations/{tenant.organization.id}"
    page = await client.get(f"{org}/vercel")
    assert installation_id in page.text
    saved = await client.post(
        f"{org}/vercel/{row.id}/mapping", data={"csrf_token": token, "production": str(tenant.project.id)}
    )
    assert saved.status_code == 303, saved.text
    added = await client.post(
        f"{org}/proxy-records", data={"csrf_token": token, "domain": "e.console-test.com"}
    )
    assert added.status_code == 303, added.text
    listed = await client.get(f"{org}/proxy-records")
    assert "e.console-test.com" in listed.text
    async with runtime.db.session() as session:
        (record,) = (await session.scalars(select(ProxyRecord))).all()
    deleted = await client.post(f"{org}/proxy-records/{record.id}/delete", data={"csrf_token": token})
    assert deleted.status_code == 303


async def test_an_organization_admin_page_refuses_a_member_and_hides_it_from_strangers(
    client: httpx.AsyncClient, runtime: Runtime, factory: Factory, tenant: Tenant
) -> None:
    member = await factory.member_of(tenant, MembershipLevel.MEMBER)
    token = await signed_in(client, runtime, member)
    org = f"/console/organizations/{tenant.organization.id}"
    page = await client.get(f"{org}/proxy-records")
    assert page.status_code == 200 and 'name="domain"' not in page.text
    refused = await client.post(
        f"{org}/proxy-records", data={"csrf_token": token, "domain": "x.console-test.com"}
    )
    assert refused.status_code == 403
    other = await factory.tenant()
    assert (await client.get(f"/console/organizations/{other.organization.id}/vercel")).status_code == 404


async def test_every_console_post_without_its_csrf_token_is_refused(
    app: FastAPI, client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    """Every POST route under /console: signed in, but without the form's token → 403, no change."""
    await signed_in(client, runtime, tenant)
    posts = sorted(
        path for method, path in served_routes(app) if method == "POST" and path.startswith("/console")
    )
    assert len(posts) >= 17 and "/console/projects/{project_id}/integrations/{integration_id}/check" in posts
    values = {"project_id": str(tenant.project.id), "organization_id": str(tenant.organization.id)}
    for path in posts:
        url = re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "1"), path)
        for data in ({}, {"csrf_token": "f" * 64}):
            answer = await client.post(url, data=data)
            assert answer.status_code == 403, (path, answer.status_code, answer.text[:300])
            assert answer.headers["content-type"].startswith("text/html")
    assert (await client.get("/console/keys")).status_code == 200  # still signed in: nothing ended
