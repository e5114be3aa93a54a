"""GET …/credentials/: only with the explicit scope and a project admin; OAuth tokens refreshed
first when they expire within 5 minutes; the refresh token never leaves; every read logged."""

from __future__ import annotations

import time

import httpx
from sqlalchemy import update

from patchbay.models import Integration, MembershipLevel
from patchbay.runtime import Runtime
from patchbay.sandbox.server import SandboxServer
from patchbay.simkit import oauth as _oauth
from tests.oauth.helpers import connect, row, secrets_of
from tests.provider_proxy.helpers import TWILIO_TOKEN, twilio_integration
from tests.support.factory import Factory, Tenant

SCOPE = "integration_credentials:read"


async def _credentials_key(factory: Factory, tenant: Tenant) -> dict[str, str]:
    key = await factory.key(tenant.user, [SCOPE, "integration:read"])
    return {"Authorization": f"Bearer {key}"}


async def test_an_oauth_token_is_handed_over_and_the_refresh_token_never_leaves(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, runtime: Runtime, sandbox: SandboxServer
) -> None:
    _oauth.set_knob(sandbox.state, "slack", "rotation", True)
    pk = await connect(client, tenant, "slack")
    headers = await _credentials_key(factory, tenant)
    answer = await client.get(f"{tenant.base}/integrations/{pk}/credentials/", headers=headers)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    stored = secrets_of(runtime, await row(runtime, pk))
    assert list(body) == ["id", "kind", "auth_type", "expires_at", "credentials"]
    assert (body["id"], body["kind"], body["auth_type"]) == (pk, "slack", "oauth2")
    assert body["credentials"] == {"access_token": stored["access_token"], "token_type": "Bearer"}
    assert body["expires_at"].endswith("Z")
    assert stored["refresh_token"] not in answer.text
    assert _oauth.grants(sandbox.state, "slack", "refresh_token") == 0


async def test_a_token_expiring_within_5_minutes_is_refreshed_first(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, runtime: Runtime, sandbox: SandboxServer
) -> None:
    _oauth.set_knob(sandbox.state, "slack", "rotation", True)
    pk = await connect(client, tenant, "slack")
    before = await row(runtime, pk)
    old = secrets_of(runtime, before)
    config = {**before.config, "refreshed_at": int(time.time()) - int(before.config["expires_in"]) + 200}
    async with runtime.db.transaction() as session:
        await session.execute(update(Integration).where(Integration.id == pk).values(config=config))
    answer = await client.get(
        f"{tenant.base}/integrations/{pk}/credentials/", headers=await _credentials_key(factory, tenant)
    )
    assert answer.status_code == 200, answer.text
    new = secrets_of(runtime, await row(runtime, pk))
    assert _oauth.grants(sandbox.state, "slack", "refresh_token") == 1
    assert answer.json()["credentials"]["access_token"] == new["access_token"] != old["access_token"]
    for refresh_token in (old["refresh_token"], new["refresh_token"]):
        assert refresh_token not in answer.text


async def test_twilio_is_basic(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    integration, sid = await twilio_integration(factory, tenant, sandbox)
    answer = await client.get(
        f"{tenant.base}/integrations/{integration.id}/credentials/",
        headers=await _credentials_key(factory, tenant),
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "id": integration.id,
        "kind": "twilio",
        "auth_type": "basic",
        "expires_at": None,
        "credentials": {"account_sid": sid, "auth_token": TWILIO_TOKEN},
    }


async def test_a_kind_with_nothing_to_hand_over_is_400(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory
) -> None:
    email = await factory.integration(tenant.project, kind="email", config={"email": "a@example.com"})
    answer = await client.get(
        f"{tenant.base}/integrations/{email.id}/credentials/", headers=await _credentials_key(factory, tenant)
    )
    assert answer.status_code == 400
    assert answer.json()["detail"] == "This integration kind has no credentials to hand over."


async def test_star_does_not_grant_it_and_members_are_refused(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    integration, _ = await twilio_integration(factory, tenant, sandbox)
    url = f"{tenant.base}/integrations/{integration.id}/credentials/"
    star = await client.get(url, headers=tenant.headers)
    assert star.status_code == 403
    assert star.json()["detail"] == f"API key missing required scope '{SCOPE}'"
    assert TWILIO_TOKEN not in star.text
    member = await factory.member_of(tenant, MembershipLevel.MEMBER, scopes=[SCOPE])
    refused = await client.get(url, headers=member.headers)
    assert refused.status_code == 403 and TWILIO_TOKEN not in refused.text
    admin = await factory.member_of(tenant, MembershipLevel.ADMIN, scopes=[SCOPE])
    assert (await client.get(url, headers=admin.headers)).status_code == 200


async def test_every_read_is_in_the_activity_log(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    integration, _ = await twilio_integration(factory, tenant, sandbox)
    headers = await _credentials_key(factory, tenant)
    for _ in range(2):
        await client.get(f"{tenant.base}/integrations/{integration.id}/credentials/", headers=headers)
    log = (await client.get(f"{tenant.base}/integrations/{integration.id}/activity/", headers=headers)).json()
    assert [(r["action"], r["outcome"], r["status_code"]) for r in log["results"]] == [
        ("credentials", "success", 200)
    ] * 2
    assert TWILIO_TOKEN not in str(log) and log["results"][0]["api_key_id"]
