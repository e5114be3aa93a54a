"""/api/organizations/{id}/proxy_records: create, list, retrieve, delete, with their scopes."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
import pytest

from patchbay.models import MembershipLevel
from tests.support.dns_server import DNSTestServer
from tests.support.factory import Factory, Tenant

FIELDS = ["id", "domain", "target_cname", "status", "message", "created_at", "updated_at", "created_by"]


def error(detail: str, attr: str | None = None, code: str = "invalid_input") -> dict[str, Any]:
    return {"type": "validation_error", "code": code, "detail": detail, "attr": attr}


async def create(client: httpx.AsyncClient, tenant: Tenant, domain: str) -> httpx.Response:
    return await client.post(
        f"{tenant.org_base}/proxy_records/", headers=tenant.headers, json={"domain": domain}
    )


async def test_create_assigns_a_target(
    client: httpx.AsyncClient, tenant: Tenant, dns_zone: DNSTestServer
) -> None:
    response = await create(client, tenant, "PH.Acme-Proxy.com.")
    assert response.status_code == 201, response.text
    body = response.json()
    assert list(body) == FIELDS
    assert body["domain"] == "ph.acme-proxy.com"
    digest = hashlib.sha256(f"{tenant.organization.id}ph.acme-proxy.com".encode()).hexdigest()[:20]
    assert body["target_cname"] == f"{digest}.proxy.patchbay.dev"
    assert body["status"] == "waiting" and body["message"] == ""
    assert body["created_by"]["email"] == tenant.user.email
    assert body["created_at"].endswith("Z")


async def test_target_base_is_configurable(client_with: Any, tenant: Tenant, dns_zone: DNSTestServer) -> None:
    custom = await client_with(proxy_base_cname="edge.acme.net")
    body = (await create(custom, tenant, "t.acme-proxy.com")).json()
    assert body["target_cname"].endswith(".edge.acme.net")


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ("", error("This field may not be blank.", "domain", "blank")),
        (
            "acme-proxy.com",
            error(
                "Use a subdomain of acme-proxy.com, e.g. ph.acme-proxy.com, not the domain itself.", "domain"
            ),
        ),
        (
            "example.co.uk",
            error(
                "Use a subdomain of example.co.uk, e.g. ph.example.co.uk, not the domain itself.", "domain"
            ),
        ),
        ("bad_label.acme.com", error("Enter a valid domain name, e.g. ph.example.com.", "domain")),
        ("https://ph.acme.com", error("Enter a valid domain name, e.g. ph.example.com.", "domain")),
        ("localhost", error("Enter a valid domain name, e.g. ph.example.com.", "domain")),
    ],
)
async def test_domain_validation(
    client: httpx.AsyncClient, tenant: Tenant, domain: str, expected: dict[str, Any]
) -> None:
    response = await create(client, tenant, domain)
    assert response.status_code == 400
    assert response.json() == expected


async def test_domain_is_unique_across_organizations(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory
) -> None:
    assert (await create(client, tenant, "ph.taken-proxy.com")).status_code == 201
    other = await factory.tenant()
    for who in (tenant, other):
        response = await create(client, who, "PH.taken-proxy.com")
        assert response.status_code == 400
        assert response.json() == error("proxy record with this domain already exists.", "domain", "unique")


async def test_missing_domain(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.post(f"{tenant.org_base}/proxy_records/", headers=tenant.headers, json={})
    assert response.status_code == 400
    assert response.json() == error("This field is required.", "domain", "required")


async def test_list_retrieve_delete(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, dns_zone: DNSTestServer
) -> None:
    first = (await create(client, tenant, "a.list-proxy.com")).json()
    second = (await create(client, tenant, "b.list-proxy.com")).json()
    other = await factory.tenant()
    foreign = (await create(client, other, "c.list-proxy.com")).json()
    page = (await client.get(f"{tenant.org_base}/proxy_records/?limit=1", headers=tenant.headers)).json()
    assert page["count"] == 2
    assert [r["id"] for r in page["results"]] == [second["id"]]  # newest first
    assert page["next"] == f"http://testserver{tenant.org_base}/proxy_records/?limit=1&offset=1"
    current = (await client.get("/api/organizations/@current/proxy_records", headers=tenant.headers)).json()
    assert {r["id"] for r in current["results"]} == {first["id"], second["id"]}
    fetched = await client.get(f"{tenant.org_base}/proxy_records/{first['id']}/", headers=tenant.headers)
    assert fetched.json() == first  # no CNAME yet: still waiting
    for missing in (foreign["id"], "00000000-0000-0000-0000-000000000000", "not-a-uuid"):
        assert (
            await client.get(f"{tenant.org_base}/proxy_records/{missing}/", headers=tenant.headers)
        ).status_code == 404
        assert (
            await client.delete(f"{tenant.org_base}/proxy_records/{missing}/", headers=tenant.headers)
        ).status_code == 404
    assert (
        await client.delete(f"{tenant.org_base}/proxy_records/{first['id']}/", headers=tenant.headers)
    ).status_code == 204
    assert (
        await client.get(f"{tenant.org_base}/proxy_records/{first['id']}/", headers=tenant.headers)
    ).status_code == 404
    assert (
        await client.get(f"{other.org_base}/proxy_records/{foreign['id']}/", headers=other.headers)
    ).status_code == 200


async def test_status_turns_valid_once_the_cname_points_at_the_target(
    client: httpx.AsyncClient, tenant: Tenant, dns_zone: DNSTestServer
) -> None:
    record = (await create(client, tenant, "ph.cname-proxy.com")).json()
    dns_zone.add("ph.cname-proxy.com", "CNAME", "somewhere.else.net")
    url = f"{tenant.org_base}/proxy_records/{record['id']}/"
    assert (await client.get(url, headers=tenant.headers)).json()["status"] == "waiting"
    dns_zone.replace("ph.cname-proxy.com", "CNAME", [record["target_cname"]])
    assert (await client.get(url, headers=tenant.headers)).json()["status"] == "valid"
    dns_zone.remove("ph.cname-proxy.com")
    listed = (await client.get(f"{tenant.org_base}/proxy_records/", headers=tenant.headers)).json()
    assert listed["results"][0]["status"] == "valid"


async def test_scopes_and_admin(client: httpx.AsyncClient, tenant: Tenant, factory: Factory) -> None:
    record = (await create(client, tenant, "ph.scoped-proxy.com")).json()
    member = await factory.member_of(tenant, MembershipLevel.MEMBER)
    assert (await client.get(f"{tenant.org_base}/proxy_records/", headers=member.headers)).status_code == 200
    for response in (
        await create(client, member, "x.scoped-proxy.com"),
        await client.delete(f"{tenant.org_base}/proxy_records/{record['id']}/", headers=member.headers),
    ):
        assert response.status_code == 403
        assert response.json()["detail"] == "Your organization access level is insufficient."
    reader = await factory.member_of(tenant, MembershipLevel.ADMIN, scopes=["proxy_record:read"])
    assert (
        await client.get(f"{tenant.org_base}/proxy_records/{record['id']}/", headers=reader.headers)
    ).status_code == 200
    denied = await create(client, reader, "y.scoped-proxy.com")
    assert denied.status_code == 403
    assert denied.json()["detail"] == "API key missing required scope 'proxy_record:write'"
    writer = await factory.member_of(tenant, MembershipLevel.ADMIN, scopes=["proxy_record:write"])
    assert (await create(client, writer, "z.scoped-proxy.com")).status_code == 201
    assert (await client.get(f"{tenant.org_base}/proxy_records/", headers=writer.headers)).status_code == 200
    other = await factory.tenant(scopes=["integration:read"])
    response = await client.get(f"{other.org_base}/proxy_records/", headers=other.headers)
    assert response.status_code == 403
    assert response.json()["detail"] == "API key missing required scope 'proxy_record:read'"
