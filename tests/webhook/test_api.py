"""The endpoint routes: the secret shown once, validation in the envelope, the URL guard, scopes
and the admin rule, tenancy."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from patchbay.app import create_app
from patchbay.models import MembershipLevel, WebhookEndpoint
from patchbay.runtime import Runtime, build_runtime
from tests.conftest import SITE_URL
from tests.support.factory import Factory, Tenant
from tests.webhook.helpers import create_endpoint

ENDPOINT_FIELDS = [
    "id", "url", "events", "description", "enabled", "disabled_reason", "created_at", "updated_at", "created_by",
]  # fmt: skip


async def test_create_shows_the_secret_once_and_stores_it_encrypted(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime
) -> None:
    created = await create_endpoint(client, tenant, "https://hooks.example.com/in", ["integration.created"])
    assert list(created) == [*ENDPOINT_FIELDS, "secret"]
    secret = created["secret"]
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32
    assert created["events"] == ["integration.created"] and created["enabled"] is True
    assert created["created_by"]["email"] == tenant.user.email and created["disabled_reason"] is None

    retrieved = await client.get(f"{tenant.base}/webhooks/{created['id']}/", headers=tenant.headers)
    listed = await client.get(f"{tenant.base}/webhooks/", headers=tenant.headers)
    assert retrieved.status_code == 200 and list(retrieved.json()) == ENDPOINT_FIELDS
    assert listed.json()["count"] == 1 and listed.json()["results"] == [retrieved.json()]
    for text in (retrieved.text, listed.text):
        assert secret not in text and secret[6:] not in text

    async with runtime.db.session() as session:
        row = await session.scalar(select(WebhookEndpoint))
    assert row is not None and secret[6:] not in row.secret
    assert runtime.keyring.decrypt_json(row.secret) == {"secret": secret}


async def test_update_and_delete(client: httpx.AsyncClient, tenant: Tenant) -> None:
    created = await create_endpoint(client, tenant, "https://hooks.example.com/a")
    url = f"{tenant.base}/webhooks/{created['id']}/"
    changed = await client.patch(
        url,
        json={"url": "https://hooks.example.com/b", "events": ["ping", "integration.deleted", "ping"],
              "description": "renamed", "enabled": False},
        headers=tenant.headers,
    )  # fmt: skip
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["url"] == "https://hooks.example.com/b" and body["events"] == ["ping", "integration.deleted"]
    assert body["description"] == "renamed" and body["enabled"] is False and "secret" not in body
    everything = await client.patch(
        url, json={"events": ["integration.created", "*"]}, headers=tenant.headers
    )
    assert everything.json()["events"] == ["*"]

    assert (await client.delete(url, headers=tenant.headers)).status_code == 204
    assert (await client.get(url, headers=tenant.headers)).status_code == 404
    assert (await client.delete(url, headers=tenant.headers)).status_code == 404


@pytest.mark.parametrize(
    ("body", "attr", "code"),
    [
        ({}, "url", "required"),
        ({"url": "https://hooks.example.com", "events": []}, "events", "empty"),
        (
            {"url": "https://hooks.example.com", "events": ["integration.exploded"]},
            "events",
            "invalid_choice",
        ),
        ({"url": "https://hooks.example.com", "events": "ping"}, "events", "not_a_list"),
        ({"url": 5}, "url", "invalid_input"),
        ({"url": "not a url"}, "url", "invalid_input"),
        ({"url": "https://user:pw@hooks.example.com"}, "url", "invalid_input"),
        ({"url": "https://hooks.example.com", "description": "x" * 1001}, "description", "max_length"),
    ],
)
async def test_bad_input_is_a_400_in_the_envelope(
    client: httpx.AsyncClient, tenant: Tenant, body: dict[str, Any], attr: str, code: str
) -> None:
    response = await client.post(f"{tenant.base}/webhooks/", json=body, headers=tenant.headers)
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["type"] == "validation_error" and error["attr"] == attr and error["code"] == code


async def test_patch_refuses_null_and_unknown_ids_are_404(client: httpx.AsyncClient, tenant: Tenant) -> None:
    created = await create_endpoint(client, tenant, "https://hooks.example.com/a")
    url = f"{tenant.base}/webhooks/{created['id']}/"
    response = await client.patch(url, json={"url": None}, headers=tenant.headers)
    assert response.status_code == 400 and response.json()["attr"] == "url"
    for missing in ("not-a-uuid", "00000000-0000-0000-0000-000000000000"):
        assert (
            await client.get(f"{tenant.base}/webhooks/{missing}/", headers=tenant.headers)
        ).status_code == 404
        deliveries = await client.get(f"{tenant.base}/webhooks/{missing}/deliveries/", headers=tenant.headers)
        assert deliveries.status_code == 404


@pytest.fixture
async def guarded_client(make_settings: Any, app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """The same database, PATCHBAY_WEBHOOK_ALLOW_PRIVATE left at its default (false)."""
    runtime = build_runtime(make_settings())
    try:
        transport = httpx.ASGITransport(app=create_app(runtime.settings, runtime))
        async with httpx.AsyncClient(transport=transport, base_url=SITE_URL) as client:
            yield client
    finally:
        await runtime.close()


@pytest.mark.parametrize(
    "url",
    [
        "http://93.184.215.14/hooks",  # public, but not https
        "https://169.254.169.254/latest/meta-data/",
        "https://127.0.0.1:8443/hooks",
        "https://10.1.2.3/hooks",
        "https://192.168.0.10/hooks",
        "https://[::1]/hooks",
        "https://[::ffff:169.254.169.254]/hooks",
        "https://0.0.0.0/hooks",
        "https://no-such-host.invalid/hooks",
    ],
)
async def test_private_and_metadata_urls_are_refused(
    guarded_client: httpx.AsyncClient, tenant: Tenant, url: str
) -> None:
    response = await guarded_client.post(
        f"{tenant.base}/webhooks/", json={"url": url}, headers=tenant.headers
    )
    assert response.status_code == 400, response.text
    assert response.json()["attr"] == "url" and response.json()["type"] == "validation_error"


async def test_private_urls_refused_on_update_too(guarded_client: httpx.AsyncClient, tenant: Tenant) -> None:
    created = await guarded_client.post(
        f"{tenant.base}/webhooks/", json={"url": "https://93.184.215.14/hooks"}, headers=tenant.headers
    )
    assert created.status_code == 201, created.text
    response = await guarded_client.patch(
        f"{tenant.base}/webhooks/{created.json()['id']}/",
        json={"url": "https://169.254.169.254/"},
        headers=tenant.headers,
    )
    assert response.status_code == 400 and response.json()["attr"] == "url"


async def test_scopes_and_the_admin_rule(client: httpx.AsyncClient, tenant: Tenant, factory: Factory) -> None:
    created = await create_endpoint(client, tenant, "https://hooks.example.com/a")
    item = f"{tenant.base}/webhooks/{created['id']}/"
    new = {"url": "https://hooks.example.com/b"}

    member = await factory.member_of(tenant, MembershipLevel.MEMBER)
    assert (await client.get(item, headers=member.headers)).status_code == 200
    for method, path, body in (
        ("POST", f"{tenant.base}/webhooks/", new),
        ("PATCH", item, {"description": "x"}),
        ("DELETE", item, None),
        ("POST", f"{item}rotate-secret/", None),
        ("POST", f"{item}test/", None),
    ):
        response = await client.request(method, path, json=body, headers=member.headers)
        assert response.status_code == 403, (method, path, response.text)

    reader = await factory.member_of(tenant, MembershipLevel.ADMIN, scopes=["webhook:read"])
    assert (await client.get(item, headers=reader.headers)).status_code == 200
    refused = await client.post(f"{tenant.base}/webhooks/", json=new, headers=reader.headers)
    assert refused.status_code == 403 and "webhook:write" in refused.json()["detail"]

    writer = await factory.member_of(tenant, MembershipLevel.ADMIN, scopes=["webhook:write"])
    assert (await client.get(item, headers=writer.headers)).status_code == 200  # write implies read
    assert (
        await client.post(f"{tenant.base}/webhooks/", json=new, headers=writer.headers)
    ).status_code == 201

    other = await factory.member_of(tenant, MembershipLevel.ADMIN, scopes=["integration:write"])
    assert (await client.get(f"{tenant.base}/webhooks/", headers=other.headers)).status_code == 403


async def test_another_projects_endpoints_are_404(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory
) -> None:
    created = await create_endpoint(client, tenant, "https://hooks.example.com/a")
    stranger = await factory.tenant()
    for method in ("GET", "PATCH", "DELETE"):
        response = await client.request(
            method, f"{stranger.base}/webhooks/{created['id']}/", json={}, headers=stranger.headers
        )
        assert response.status_code == 404
    listed = await client.get(f"{stranger.base}/webhooks/", headers=stranger.headers)
    assert listed.json()["count"] == 0
    # ... and the owner's project stays closed to the stranger.
    assert (await client.get(f"{tenant.base}/webhooks/", headers=stranger.headers)).status_code == 403
