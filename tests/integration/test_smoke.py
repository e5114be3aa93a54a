from __future__ import annotations

import httpx

from tests.support.factory import Factory, Tenant


async def test_list_create_retrieve_delete(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox
) -> None:
    from patchbay.providers.twilio import simulator as twilio

    sid = twilio.add_account(sandbox.state, auth_token="SENTINEL-token-123")
    response = await client.post(
        f"{tenant.base}/integrations/",
        json={"kind": "twilio", "config": {"account_sid": sid, "auth_token": "SENTINEL-token-123"}},
        headers=tenant.headers,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["kind"] == "twilio" and body["display_name"] == f"ID: {sid}"
    assert "SENTINEL" not in response.text
    listed = await client.get(f"{tenant.base}/integrations/", headers=tenant.headers)
    assert listed.status_code == 200
    assert listed.json()["count"] == 1
    got = await client.get(f"{tenant.base}/integrations/{body['id']}", headers=tenant.headers)
    assert got.json()["id"] == body["id"]
    deleted = await client.delete(f"{tenant.base}/integrations/{body['id']}/", headers=tenant.headers)
    assert deleted.status_code == 204
    missing = await client.get(f"{tenant.base}/integrations/{body['id']}/", headers=tenant.headers)
    assert missing.status_code == 404
    assert missing.json() == {
        "type": "invalid_request",
        "code": "not_found",
        "detail": "Not found.",
        "attr": None,
    }
