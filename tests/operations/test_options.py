"""OPTIONS as Django REST framework answers it: 200 with the view's metadata and `Allow` for a caller
with a valid key, 401 without one, 404 where no route is."""

from __future__ import annotations

import httpx

from tests.support.factory import Tenant


async def test_options_answers_drf_metadata_for_an_authenticated_caller(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    for url, allow in (
        (f"{tenant.base}/integrations/", "GET, POST, OPTIONS"),
        (f"/api/environments/{tenant.project.id}/integrations/7/", "GET, DELETE, OPTIONS"),
        (f"{tenant.org_base}/proxy_records/", "GET, POST, OPTIONS"),
    ):
        response = await client.options(url, headers=tenant.headers)
        assert response.status_code == 200, (url, response.text)
        body = response.json()
        assert list(body) == ["name", "description", "renders", "parses"]
        assert body["renders"] == ["application/json"] and body["parses"] == ["application/json"]
        assert isinstance(body["name"], str) and body["name"]
        assert response.headers["allow"] == allow


async def test_options_needs_a_valid_key(client: httpx.AsyncClient, tenant: Tenant) -> None:
    missing = await client.options(f"{tenant.base}/integrations/")
    assert missing.status_code == 401
    assert missing.json()["code"] == "not_authenticated"
    bad = await client.options(f"{tenant.base}/integrations/", headers={"Authorization": "Bearer phx_nope"})
    assert bad.status_code == 401
    assert bad.json()["code"] == "authentication_failed"


async def test_options_on_no_route_is_404(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.options("/api/nothing-here/", headers=tenant.headers)
    assert response.status_code == 404
