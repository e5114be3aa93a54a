"""Where a personal API key may come from: the body only of a JSON request with a body (POST, PUT,
PATCH) — a GET or DELETE carrying one in a body is not authenticated by it, and a
body that is not JSON is not read for one."""

from __future__ import annotations

import httpx
import orjson
import pytest

from patchbay.kit.errors import NotAuthenticated
from tests.support.factory import Factory, Tenant


@pytest.mark.parametrize("method", ["GET", "DELETE"])  # HEAD and OPTIONS are not routed (405)
async def test_a_body_key_does_not_authenticate_bodiless_methods(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, method: str
) -> None:
    row = await factory.integration(tenant.project, "twilio")
    url = f"{tenant.base}/integrations/{row.id}/"
    body = orjson.dumps({"personal_api_key": tenant.key})
    response = await client.request(method, url, content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 401, response.text
    # The same key in the header is accepted: the refusal was about where it was; nothing was deleted.
    assert (await client.get(url, headers=tenant.headers)).status_code == 200


async def test_a_body_key_needs_a_json_body(client: httpx.AsyncClient, tenant: Tenant) -> None:
    url = f"{tenant.base}/integrations/"
    payload = {"personal_api_key": tenant.key, "kind": "twilio", "config": {}}
    for content_type in (None, "text/plain", "application/x-www-form-urlencoded"):
        headers = {"Content-Type": content_type} if content_type else {}
        response = await client.post(url, content=orjson.dumps(payload), headers=headers)
        assert response.status_code == 401, (content_type, response.text)
    for body in (b"[1, 2]", b'{"personal_api_key": 7}', b'{"personal_api_key": ""}'):
        response = await client.post(url, content=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 401, response.text
    accepted = await client.post(
        url, content=orjson.dumps(payload), headers={"Content-Type": "application/json"}
    )
    assert accepted.status_code == 400 and accepted.json()["type"] == "validation_error", "authenticated"


async def test_an_oauth_access_token_is_not_taken_for_a_key(client: httpx.AsyncClient, tenant: Tenant) -> None:
    """PostHog's OAuth access tokens (`pha_…`) are another authenticator's: no key was sent, rather
    than a wrong one (and the key store is not asked)."""
    response = await client.get(f"{tenant.base}/integrations/", headers={"Authorization": "Bearer pha_" + "a" * 40})
    assert response.status_code == 401
    assert response.json()["detail"] == NotAuthenticated.default_detail
    wrong = await client.get(f"{tenant.base}/integrations/", headers={"Authorization": "Bearer phx_" + "a" * 40})
    assert wrong.status_code == 401 and wrong.json()["detail"] != NotAuthenticated.default_detail
