"""Kinds created from config: Twilio (against the simulator) and Databricks (issue 2)."""

from __future__ import annotations

import httpx
import pytest

from patchbay.providers.twilio import simulator as twilio
from tests.support.factory import Tenant

SECRET = "SENTINEL-twilio-token-8f3a"


async def _count(client: httpx.AsyncClient, tenant: Tenant) -> int:
    return int((await client.get(f"{tenant.base}/integrations/", headers=tenant.headers)).json()["count"])


async def test_twilio_created_and_token_kept_secret(
    client: httpx.AsyncClient, tenant: Tenant, sandbox, runtime
) -> None:
    sid = twilio.add_account(sandbox.state, auth_token=SECRET)
    response = await client.post(
        f"{tenant.base}/integrations/",
        json={"kind": "twilio", "config": {"account_sid": sid, "auth_token": SECRET}},
        headers=tenant.headers,
    )
    assert response.status_code == 201
    body = response.json()
    assert body["config"] == {"account_sid": sid}
    assert body["display_name"] == f"ID: {sid}"
    assert SECRET not in response.text
    from patchbay.models import Integration

    async with runtime.db.session() as session:
        row = await session.get(Integration, body["id"])
        assert row is not None and row.integration_id == sid
        assert SECRET not in row.sensitive_config, "stored encrypted"
        assert runtime.keyring.decrypt_json(row.sensitive_config) == {"auth_token": SECRET}


@pytest.mark.parametrize(
    "config", [{}, {"account_sid": "AC1"}, {"auth_token": "x"}, {"account_sid": "", "auth_token": "x"}]
)
async def test_twilio_requires_both_fields(client: httpx.AsyncClient, tenant: Tenant, config: dict) -> None:
    response = await client.post(
        f"{tenant.base}/integrations/", json={"kind": "twilio", "config": config}, headers=tenant.headers
    )
    assert response.status_code == 400
    assert response.json()["detail"] == "Account SID and auth token must be provided"


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        ("401", 400, "invalid_input"),
        ("500", 502, "provider_unavailable"),
        ("malformed", 502, "provider_unavailable"),
        ("429", 429, "provider_rate_limited"),
        ("timeout", 503, "provider_unreachable"),
    ],
)
async def test_twilio_failures_lose_nothing(
    client: httpx.AsyncClient, tenant: Tenant, sandbox, fault: str, status: int, code: str
) -> None:
    sid = twilio.add_account(sandbox.state, auth_token=SECRET)
    ok = await client.post(
        f"{tenant.base}/integrations/",
        json={"kind": "twilio", "config": {"account_sid": sid, "auth_token": SECRET}},
        headers=tenant.headers,
    )
    assert ok.status_code == 201
    before = (
        await client.get(f"{tenant.base}/integrations/{ok.json()['id']}", headers=tenant.headers)
    ).json()
    sandbox.state.inject("twilio", fault)
    response = await client.post(
        f"{tenant.base}/integrations/",
        json={"kind": "twilio", "config": {"account_sid": sid, "auth_token": SECRET}},
        headers=tenant.headers,
    )
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"type", "code", "detail", "attr"}
    assert body["code"] == code
    assert SECRET not in response.text
    if fault == "401":
        assert body == {
            "type": "validation_error",
            "code": "invalid_input",
            "detail": "Failed to get account info",
            "attr": "account_info",
        }
    if fault == "429":
        assert response.headers["Retry-After"] == "7"
    assert await _count(client, tenant) == 1
    after = (await client.get(f"{tenant.base}/integrations/{ok.json()['id']}", headers=tenant.headers)).json()
    assert after == before


async def test_twilio_wrong_token_is_account_info_error(
    client: httpx.AsyncClient, tenant: Tenant, sandbox
) -> None:
    sid = twilio.add_account(sandbox.state, auth_token="right")
    response = await client.post(
        f"{tenant.base}/integrations/",
        json={"kind": "twilio", "config": {"account_sid": sid, "auth_token": "wrong"}},
        headers=tenant.headers,
    )
    assert response.status_code == 400 and response.json()["attr"] == "account_info"
    assert await _count(client, tenant) == 0


async def test_databricks_created(client: httpx.AsyncClient, tenant: Tenant, runtime) -> None:
    config = {"server_hostname": "52.1.2.3", "client_id": "cid", "client_secret": "SENTINEL-dbx"}
    response = await client.post(
        f"{tenant.base}/integrations/", json={"kind": "databricks", "config": config}, headers=tenant.headers
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["config"] == {"server_hostname": "52.1.2.3"}
    assert body["display_name"] == "52.1.2.3"
    assert "SENTINEL" not in response.text


@pytest.mark.parametrize(
    ("config", "detail"),
    [
        ({}, "Server hostname, client ID, and client secret must be provided"),
        ({"server_hostname": "h", "client_id": "c"}, "Server hostname, client ID, and client secret must be provided"),
        ({"client_id": "c", "client_secret": "s"}, "Server hostname, client ID, and client secret must be provided"),
        ({"server_hostname": "h", "client_id": "c", "client_secret": 1}, "Server hostname, client ID, and client secret must be strings"),
        ({"server_hostname": "https://x.cloud.databricks.com", "client_id": "c", "client_secret": "s"},
         "Databricks integration is not valid: 'server_hostname' should not be a full URL"),
    ],
)  # fmt: skip
async def test_databricks_validation(
    client: httpx.AsyncClient, tenant: Tenant, config: dict, detail: str
) -> None:
    response = await client.post(
        f"{tenant.base}/integrations/", json={"kind": "databricks", "config": config}, headers=tenant.headers
    )
    assert response.status_code == 400
    assert response.json()["detail"] == detail


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "10.0.0.5", "192.168.1.1", "169.254.169.254", "::1", "0.0.0.0", "fd00::1"]
)
async def test_databricks_refuses_internal_addresses(
    client: httpx.AsyncClient, tenant: Tenant, host: str
) -> None:
    config = {"server_hostname": host, "client_id": "c", "client_secret": "s"}
    response = await client.post(
        f"{tenant.base}/integrations/", json={"kind": "databricks", "config": config}, headers=tenant.headers
    )
    assert response.status_code == 400
    assert response.json()["detail"] == f"Databricks integration error: could not validate hostname '{host}'"
    assert await _count(client, tenant) == 0
