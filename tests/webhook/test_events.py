"""Every event type, raised by the code that makes the change (OAuth callback, refresh, reconnect,
delete, Vercel link and uninstall) and written in its transaction; no secret in any body."""

from __future__ import annotations

import time
from typing import Any

import httpx
from sqlalchemy import select, update

from patchbay.config import Settings
from patchbay.models import Integration, WebhookDelivery
from patchbay.oauth.refresh import refresh_integration
from patchbay.providers.twilio import simulator as twilio
from patchbay.runtime import Runtime
from patchbay.sandbox.server import SandboxServer
from tests.oauth.helpers import connect, row, secrets_of
from tests.support.factory import Factory, Tenant
from tests.support.webhook_receiver import Receiver
from tests.vercel.helpers import vercel_settings
from tests.vercel.test_connect import COMPLETE, _body, _session
from tests.vercel.test_webhooks import URL as VERCEL_WEBHOOKS
from tests.vercel.test_webhooks import _removed, _signed
from tests.webhook.helpers import create_endpoint, deliver, verified

TWILIO_SENTINEL = "SENTINEL-webhook-twilio-token-5b1e"


async def _age(runtime: Runtime, pk: int) -> None:
    stored = await row(runtime, pk)
    config = {**stored.config, "refreshed_at": int(time.time()) - 3000}  # past the half-life
    async with runtime.db.transaction() as session:
        await session.execute(update(Integration).where(Integration.id == pk).values(config=config))


async def test_each_integration_event_reaches_the_endpoint(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer, receiver: Receiver
) -> None:
    endpoint = await create_endpoint(client, tenant, receiver.url)
    secrets_seen: list[str] = [endpoint["secret"]]

    pk = await connect(client, tenant, "linear")  # the OAuth callback creates it
    secrets_seen += [v for v in secrets_of(runtime, await row(runtime, pk)).values() if isinstance(v, str)]
    await _age(runtime, pk)
    sandbox.state.inject("linear", "500", count=2, path_contains="/oauth/token")  # retried once in the call
    assert (await refresh_integration(runtime, pk, tenant.project.id)).failure == "http_5xx"
    await refresh_integration(runtime, pk, tenant.project.id, force=True)  # works again: recovered
    secrets_seen += [v for v in secrets_of(runtime, await row(runtime, pk)).values() if isinstance(v, str)]
    sandbox.state.revoke(secrets_of(runtime, await row(runtime, pk))["refresh_token"])
    assert (await refresh_integration(runtime, pk, tenant.project.id, force=True)).failure == "invalid_grant"
    assert await connect(client, tenant, "linear") == pk  # reconnecting the same account: updated
    secrets_seen += [v for v in secrets_of(runtime, await row(runtime, pk)).values() if isinstance(v, str)]

    sid = twilio.add_account(sandbox.state, auth_token=TWILIO_SENTINEL)
    made = await client.post(
        f"{tenant.base}/integrations/",
        json={"kind": "twilio", "config": {"account_sid": sid, "auth_token": TWILIO_SENTINEL}},
        headers=tenant.headers,
    )
    assert made.status_code == 201, made.text
    assert (
        await client.delete(f"{tenant.base}/integrations/{pk}/", headers=tenant.headers)
    ).status_code == 204

    await deliver(runtime)
    # Deliveries run concurrently: the receiver sees them in any order, event times order them.
    payloads = sorted(
        (verified(r, endpoint["secret"]) for r in receiver.received), key=lambda p: p["created_at"]
    )
    assert [(p["type"], p["data"]["integration"]["id"]) for p in payloads] == [
        ("integration.created", pk),
        ("integration.refresh_failed", pk),
        ("integration.recovered", pk),
        ("integration.reauthorization_required", pk),
        ("integration.recovered", pk),  # reconnecting the same account clears the failure
        ("integration.updated", pk),
        ("integration.created", made.json()["id"]),
        ("integration.deleted", pk),
    ]
    by_type = {p["type"]: p for p in payloads}
    assert by_type["integration.refresh_failed"]["data"]["error"]["code"] == "http_5xx"
    assert by_type["integration.reauthorization_required"]["data"]["error"]["code"] == "invalid_grant"
    assert "error" not in by_type["integration.recovered"]["data"]
    assert by_type["integration.reauthorization_required"]["data"]["integration"]["health"]["status"] == (
        "reauthorization_required"
    )
    assert by_type["integration.updated"]["data"]["integration"]["health"]["status"] == "healthy"
    assert by_type["integration.refresh_failed"]["data"]["integration"]["errors"] == "TOKEN_REFRESH_FAILED"
    created = by_type["integration.created"]["data"]["integration"]
    api_object = (
        await client.get(f"{tenant.base}/integrations/{made.json()['id']}/", headers=tenant.headers)
    ).json()
    assert payloads[6]["data"]["integration"] == api_object  # the object the API returns
    assert list(created) == list(api_object)
    assert len({p["id"] for p in payloads}) == len(payloads)
    assert all(p["id"].startswith("evt_") and p["project_id"] == tenant.project.id for p in payloads)

    everything = b"".join(r.body for r in receiver.received) + b"".join(
        v.encode() for r in receiver.received for v in r.headers.values()
    )
    for secret in [*secrets_seen, TWILIO_SENTINEL, endpoint["secret"][6:]]:
        assert secret.encode() not in everything


async def test_subscriptions_filter_events_and_a_rolled_back_change_raises_none(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer, receiver: Receiver
) -> None:
    only_deleted = await create_endpoint(client, tenant, receiver.url, ["integration.deleted"])
    disabled = await create_endpoint(client, tenant, receiver.url)
    await client.patch(
        f"{tenant.base}/webhooks/{disabled['id']}/", json={"enabled": False}, headers=tenant.headers
    )
    sid = twilio.add_account(sandbox.state, auth_token=TWILIO_SENTINEL)
    made = await client.post(
        f"{tenant.base}/integrations/",
        json={"kind": "twilio", "config": {"account_sid": sid, "auth_token": TWILIO_SENTINEL}},
        headers=tenant.headers,
    )
    refused = await client.post(  # a failed create writes nothing, events included
        f"{tenant.base}/integrations/",
        json={"kind": "twilio", "config": {"account_sid": sid, "auth_token": "wrong"}},
        headers=tenant.headers,
    )
    assert refused.status_code == 400
    await client.delete(f"{tenant.base}/integrations/{made.json()['id']}/", headers=tenant.headers)
    await deliver(runtime)
    assert [verified(r, only_deleted["secret"])["type"] for r in receiver.received] == ["integration.deleted"]
    async with runtime.db.session() as session:
        assert list((await session.scalars(select(WebhookDelivery.event_type))).all()) == ["integration.deleted"]


async def test_organization_events_go_to_every_project_of_the_organization(
    make_settings: Any, sandbox_server: SandboxServer, factory: Factory, receiver: Receiver
) -> None:
    from patchbay.app import create_app
    from patchbay.runtime import build_runtime
    from tests.conftest import SITE_URL

    settings: Settings = vercel_settings(make_settings, sandbox_server, webhook_allow_private=True)
    runtime = build_runtime(settings)
    try:
        transport = httpx.ASGITransport(app=create_app(settings, runtime))
        async with httpx.AsyncClient(transport=transport, base_url=SITE_URL) as client:
            tenant = await factory.tenant()
            second = await factory.project(tenant.organization)
            first_endpoint = await create_endpoint(client, tenant, receiver.url, ["org_integration.created",
                                                                                   "org_integration.deleted"])  # fmt: skip
            response = await client.post(
                f"/api/projects/{second.id}/webhooks/",
                json={"url": receiver.url, "events": ["*"]},
                headers=tenant.headers,
            )
            second_endpoint = response.json()

            session, installation_id = await _session(client, sandbox_server)
            linked = await client.post(COMPLETE, json=_body(session, tenant), headers=tenant.headers)
            assert linked.status_code == 201, linked.text
            raw, headers = _signed(_removed(installation_id))
            assert (await client.post(VERCEL_WEBHOOKS, content=raw, headers=headers)).status_code == 200

            await deliver(runtime)
    finally:
        await runtime.close()
    first = sorted(
        (
            verified(r, first_endpoint["secret"])
            for r in receiver.received
            if signed_by_first(r, first_endpoint)
        ),
        key=lambda p: p["created_at"],
    )
    other = [
        verified(r, second_endpoint["secret"])
        for r in receiver.received
        if not signed_by_first(r, first_endpoint)
    ]
    assert [p["type"] for p in first] == ["org_integration.created", "org_integration.deleted"]
    assert sorted(p["type"] for p in other) == ["org_integration.created", "org_integration.deleted"]
    assert {p["project_id"] for p in first} == {tenant.project.id}
    assert {p["project_id"] for p in other} == {second.id}
    created = first[0]["data"]["integration"]
    assert created["kind"] == "vercel" and created["integration_id"] == installation_id
    assert all(p["organization_id"] == str(tenant.organization.id) for p in first + other)
    assert b"vercel-access-" not in b"".join(r.body for r in receiver.received)


def signed_by_first(received: Any, endpoint: dict[str, Any]) -> bool:
    from tests.webhook.helpers import signed_by

    return signed_by(received, endpoint["secret"])
