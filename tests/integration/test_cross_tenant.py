"""A key of one organization calls every tenant route with the ids of another and learns nothing.

Routes are read from the application itself, so a new route is covered without editing this test.
"""

from __future__ import annotations

import re
import uuid

import httpx

from tests.support.factory import Factory, Tenant

SENTINELS = (
    "SENTINEL-B-secret",
    "Org-B-Sentinel-Name",
    "Project-B-Sentinel",
    "AC-B-SENTINEL",
    "b-config-sentinel",
)
QUERY = {"workspaceId": "1", "spaceId": "1", "domain": "example.com", "kind": "slack", "next": "/"}


def tenant_routes(app) -> list[tuple[str, str]]:
    """(method, path) of every tenant route in the OpenAPI schema; integer path ids as {id:int}."""
    routes = []
    for path, operations in app.openapi()["paths"].items():
        if not path.startswith(("/api/projects/", "/api/environments/", "/api/organizations/")):
            continue
        for method, operation in operations.items():
            typed = path
            for param in operation.get("parameters", []):
                if param.get("in") == "path" and param.get("schema", {}).get("type") == "integer":
                    name = param["name"]
                    typed = typed.replace("{" + name + "}", "{" + name + ":int}")
            routes.append((method.upper(), typed))
    return routes


def fill(path: str, *, project: int | str, organization: str, int_id: int, uuid_id: str) -> str:
    path = path.replace("{project_id}", str(project)).replace("{organization_id}", organization)

    def replace(match: re.Match[str]) -> str:
        return str(int_id) if match.group(2) == ":int" else uuid_id

    return re.sub(r"\{([A-Za-z_]+)(:[a-z]+)?\}", replace, path)


async def _victim(factory: Factory) -> tuple[Tenant, int, str]:
    victim = await factory.tenant()
    from patchbay.models import OrganizationIntegration

    async with factory.runtime.db.transaction() as session:
        org = await session.get(type(victim.organization), victim.organization.id)
        org.name = "Org-B-Sentinel-Name"
        project = await session.get(type(victim.project), victim.project.id)
        project.name = "Project-B-Sentinel"
        org_integration = OrganizationIntegration(
            organization_id=victim.organization.id,
            kind="vercel",
            integration_id="icfg_B",
            config={"type": "connectable", "note": "b-config-sentinel"},
            sensitive_config=factory.runtime.keyring.encrypt_json({"token": "SENTINEL-B-secret"}),
        )
        session.add(org_integration)
        await session.flush()
        org_integration_id = str(org_integration.id)
    row = await factory.integration(
        victim.project,
        "twilio",
        "AC-B-SENTINEL",
        {"note": "b-config-sentinel"},
        {"auth_token": "SENTINEL-B-secret"},
        victim.user,
    )
    return victim, row.id, org_integration_id


def _assert_reveals_nothing(response: httpx.Response, where: str) -> None:
    assert response.status_code in {403, 404}, f"{where}: {response.status_code} {response.text[:300]}"
    body = response.json()
    assert set(body) == {"type", "code", "detail", "attr"}, where
    for sentinel in SENTINELS:
        assert sentinel not in response.text, f"{where} leaked {sentinel}"


async def test_cross_tenant_matrix(client: httpx.AsyncClient, app, tenant: Tenant, factory: Factory) -> None:
    victim, victim_integration, victim_org_integration = await _victim(factory)
    routes = tenant_routes(app)
    assert len(routes) >= 6
    for method, path in routes:
        # The victim's project or organization, with the victim's ids.
        url = fill(
            path,
            project=victim.project.id,
            organization=str(victim.organization.id),
            int_id=victim_integration,
            uuid_id=victim_org_integration,
        )
        response = await client.request(
            method,
            url,
            params=QUERY,
            json={} if method in {"POST", "PATCH", "PUT"} else None,
            headers=tenant.headers,
        )
        _assert_reveals_nothing(response, f"{method} {url}")
        # The caller's own project or organization, with the victim's ids.
        if "{" in path.replace("{project_id}", "").replace("{organization_id}", ""):
            url = fill(
                path,
                project=tenant.project.id,
                organization=str(tenant.organization.id),
                int_id=victim_integration,
                uuid_id=victim_org_integration,
            )
            response = await client.request(
                method,
                url,
                params=QUERY,
                json={} if method in {"POST", "PATCH", "PUT"} else None,
                headers=tenant.headers,
            )
            _assert_reveals_nothing(response, f"{method} {url} (own tenant, foreign id)")


async def test_unknown_and_foreign_organizations_answer_alike(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, app
) -> None:
    victim, _, _ = await _victim(factory)
    org_routes = [
        (m, p)
        for m, p in tenant_routes(app)
        if p.startswith("/api/organizations/") and "{" not in p.replace("{organization_id}", "")
    ]
    for method, path in org_routes:
        foreign = await client.request(
            method,
            path.replace("{organization_id}", str(victim.organization.id)),
            headers=tenant.headers,
            json={} if method != "GET" else None,
        )
        unknown = await client.request(
            method,
            path.replace("{organization_id}", str(uuid.uuid4())),
            headers=tenant.headers,
            json={} if method != "GET" else None,
        )
        assert foreign.status_code == unknown.status_code == 404, path
        assert foreign.json() == unknown.json()


async def test_victim_data_untouched(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, app
) -> None:
    victim, victim_integration, _ = await _victim(factory)
    for method, path in tenant_routes(app):
        if method == "GET":
            continue
        url = fill(
            path,
            project=victim.project.id,
            organization=str(victim.organization.id),
            int_id=victim_integration,
            uuid_id=str(uuid.uuid4()),
        )
        await client.request(method, url, json={}, headers=tenant.headers)
    still = await client.get(f"{victim.base}/integrations/{victim_integration}/", headers=victim.headers)
    assert still.status_code == 200 and still.json()["config"] == {"note": "b-config-sentinel"}
