"""Personal API key authentication, scopes, scoped keys and rate limits (issue 2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select, update

from patchbay.auth.keys import hash_key_value, mask_key_value
from patchbay.models import PersonalAPIKey, User
from tests.support.factory import Factory, Tenant


async def test_no_credentials_is_401_with_bearer_challenge(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.get(f"{tenant.base}/integrations/")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json() == {
        "type": "authentication_error", "code": "not_authenticated",
        "detail": "Authentication credentials were not provided.", "attr": None,
    }  # fmt: skip


@pytest.mark.parametrize("header", ["{key}", "Token {key}", "bearer:{key}", "Bearer"])
async def test_key_without_bearer_says_how_to_send_it(
    client: httpx.AsyncClient, tenant: Tenant, header: str
) -> None:
    response = await client.get(
        f"{tenant.base}/integrations/", headers={"Authorization": header.format(key=tenant.key)}
    )
    assert response.status_code == 401
    body = response.json()
    assert body["type"] == "authentication_error" and body["code"] == "not_authenticated"
    assert body["detail"] == (
        "Authentication credentials were not provided. Send the personal API key as "
        "'Authorization: Bearer phx_…' (the word Bearer, a space, then the key)."
    )
    assert tenant.key not in response.text


@pytest.mark.parametrize(
    ("where", "detail"),
    [
        ("header", "Personal API key found in request Authorization header is invalid."),
        ("query", "Personal API key found in request query string is invalid."),
        ("body", "Personal API key found in request body is invalid."),
    ],
)
async def test_invalid_key_messages(
    client: httpx.AsyncClient, tenant: Tenant, where: str, detail: str
) -> None:
    url = f"{tenant.base}/integrations/"
    bad = "phx_notarealkey0000000000000000000000000000000"
    if where == "header":
        response = await client.get(url, headers={"Authorization": f"Bearer {bad}"})
    elif where == "query":
        response = await client.get(url, params={"personal_api_key": bad})
    else:
        response = await client.post(url, json={"personal_api_key": bad, "kind": "twilio", "config": {}})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json() == {
        "type": "authentication_error",
        "code": "authentication_failed",
        "detail": detail,
        "attr": None,
    }


async def test_key_accepted_from_header_body_and_query(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory
) -> None:
    url = f"{tenant.base}/integrations/"
    assert (await client.get(url, headers={"Authorization": f"Bearer   {tenant.key}  "})).status_code == 200
    assert (await client.get(url, params={"personal_api_key": tenant.key})).status_code == 200
    created = await client.post(
        url,
        json={
            "personal_api_key": tenant.key,
            "kind": "databricks",
            "config": {"server_hostname": "52.1.2.3", "client_id": "c", "client_secret": "s"},
        },
    )
    assert created.status_code == 201


async def test_header_wins_over_body(client: httpx.AsyncClient, tenant: Tenant) -> None:
    response = await client.post(
        f"{tenant.base}/integrations/",
        json={"personal_api_key": tenant.key, "kind": "twilio", "config": {}},
        headers={"Authorization": "Bearer phx_wrong"},
    )
    assert response.status_code == 401
    assert "Authorization header" in response.json()["detail"]


async def test_inactive_user_key_is_refused(client: httpx.AsyncClient, tenant: Tenant, runtime) -> None:
    async with runtime.db.transaction() as session:
        await session.execute(update(User).where(User.id == tenant.user.id).values(is_active=False))
    response = await client.get(f"{tenant.base}/integrations/", headers=tenant.headers)
    assert response.status_code == 401 and response.json()["code"] == "authentication_failed"


async def test_key_stored_only_as_hash_and_mask(tenant: Tenant, runtime) -> None:
    async with runtime.db.session() as session:
        key = await session.scalar(select(PersonalAPIKey).where(PersonalAPIKey.user_id == tenant.user.id))
    assert key is not None
    assert key.secure_value == hash_key_value(tenant.key)
    assert key.secure_value.startswith("sha256$") and tenant.key not in key.secure_value
    assert key.mask_value == mask_key_value(tenant.key) == f"phx_...{tenant.key[-4:]}"
    assert tenant.key.startswith("phx_") and len(tenant.key) in (52, 53)


async def test_last_used_at_written_at_most_hourly(
    client: httpx.AsyncClient, tenant: Tenant, runtime
) -> None:
    url = f"{tenant.base}/integrations/"

    async def last_used() -> datetime | None:
        async with runtime.db.session() as session:
            return await session.scalar(
                select(PersonalAPIKey.last_used_at).where(PersonalAPIKey.user_id == tenant.user.id)
            )

    assert await last_used() is None
    await client.get(url, headers=tenant.headers)
    first = await last_used()
    assert first is not None
    await client.get(url, headers=tenant.headers)
    assert await last_used() == first, "not rewritten within the hour"
    old = datetime.now(UTC) - timedelta(hours=2)
    async with runtime.db.transaction() as session:
        await session.execute(
            update(PersonalAPIKey).where(PersonalAPIKey.user_id == tenant.user.id).values(last_used_at=old)
        )
    await client.get(url, headers=tenant.headers)
    refreshed = await last_used()
    assert refreshed is not None and refreshed > old + timedelta(hours=1)


@pytest.mark.parametrize(
    ("scopes", "method", "status", "missing"),
    [
        (["feature_flag:read"], "GET", 403, "integration:read"),
        (["integration:read"], "GET", 200, None),
        (["integration:write"], "GET", 200, None),
        (["*"], "GET", 200, None),
        (["integration:read"], "POST", 403, "integration:write"),
        (["integration:read"], "DELETE", 403, "integration:write"),
        (["integration:write"], "DELETE", 204, None),
    ],
)
async def test_scopes(
    client: httpx.AsyncClient,
    factory: Factory,
    scopes: list[str],
    method: str,
    status: int,
    missing: str | None,
) -> None:
    tenant = await factory.tenant(scopes=scopes)
    row = await factory.integration(tenant.project, "twilio", "AC1", created_by=tenant.user)
    if method == "GET":
        response = await client.get(f"{tenant.base}/integrations/", headers=tenant.headers)
    elif method == "POST":
        response = await client.post(
            f"{tenant.base}/integrations/", json={"kind": "twilio", "config": {}}, headers=tenant.headers
        )
    else:
        response = await client.delete(f"{tenant.base}/integrations/{row.id}/", headers=tenant.headers)
    assert response.status_code == status
    if missing:
        assert response.json() == {
            "type": "authentication_error", "code": "permission_denied",
            "detail": f"API key missing required scope '{missing}'", "attr": None,
        }  # fmt: skip


async def test_scoped_projects_and_organizations(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory
) -> None:
    second = await factory.project(tenant.organization)
    only_first = await factory.key(tenant.user, scoped_projects=[tenant.project.id])
    headers = {"Authorization": f"Bearer {only_first}"}
    assert (await client.get(f"{tenant.base}/integrations/", headers=headers)).status_code == 200
    refused = await client.get(f"/api/projects/{second.id}/integrations/", headers=headers)
    assert refused.status_code == 403
    assert (
        refused.json()["detail"] == f"API key does not have access to the requested project: ID {second.id}."
    )
    other_org_owner = await factory.tenant()
    await factory.member(other_org_owner.organization, tenant.user)
    org_scoped = await factory.key(tenant.user, scoped_organizations=[str(tenant.organization.id)])
    headers = {"Authorization": f"Bearer {org_scoped}"}
    assert (await client.get(f"{tenant.base}/integrations/", headers=headers)).status_code == 200
    refused = await client.get(f"{other_org_owner.base}/integrations/", headers=headers)
    assert refused.status_code == 403
    assert (
        refused.json()["detail"]
        == f"API key does not have access to the requested organization: ID {other_org_owner.organization.id}."
    )


async def test_rate_limit_per_key_in_memory(make_settings, factory: Factory) -> None:
    await _exercise_rate_limit(make_settings(rate_limit="3/hour"))


async def test_rate_limit_shared_through_redis(make_settings) -> None:
    settings = make_settings(rate_limit="3/hour", redis=True)
    await _exercise_rate_limit(settings, second_app=True)


async def _exercise_rate_limit(settings, second_app: bool = False) -> None:
    from patchbay.app import create_app
    from patchbay.runtime import build_runtime

    runtimes = [build_runtime(settings) for _ in range(2 if second_app else 1)]
    try:
        tenant = await Factory(runtimes[0]).tenant()
        other = await Factory(runtimes[0]).tenant()
        clients = [
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=create_app(settings, rt)), base_url="http://testserver"
            )
            for rt in runtimes
        ]
        url = f"{tenant.base}/integrations/"
        statuses = [
            (await clients[i % len(clients)].get(url, headers=tenant.headers)).status_code for i in range(4)
        ]
        assert statuses == [200, 200, 200, 429]
        throttled = await clients[0].get(url, headers=tenant.headers)
        assert throttled.status_code == 429
        body = throttled.json()
        assert body["type"] == "throttled_error" and body["code"] == "throttled" and body["attr"] is None
        wait = int(throttled.headers["Retry-After"])
        assert 1 <= wait <= 3601
        assert (
            body["detail"]
            == f"Request was throttled. Expected available in {wait} second{'s' if wait != 1 else ''}."
        )
        assert (
            await clients[-1].get(f"{other.base}/integrations/", headers=other.headers)
        ).status_code == 200, "per key"
        for c in clients:
            await c.aclose()
    finally:
        for rt in runtimes:
            await rt.close()
