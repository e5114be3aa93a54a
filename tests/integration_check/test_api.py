"""POST {P}/integrations/{id}/check/ against the sandbox: each kind with a verification call turns
healthy, a revoked credential reauthorization_required (with its event), an outage refresh_failed
and never reauthorization_required, recovery healthy again (with `integration.recovered`); a kind
with no check keeps `unknown` and says so."""

from __future__ import annotations

import httpx
import pytest

from patchbay.models import TOKEN_REFRESH_FAILED
from patchbay.providers import registry
from patchbay.providers.slack import simulator_api as slack_api
from patchbay.providers.twilio import simulator as twilio
from patchbay.runtime import Runtime
from patchbay.sandbox.server import SandboxServer
from tests.integration_check.helpers import check, health_events, sim_prefix, subscribe
from tests.oauth.helpers import connect, row, secrets_of
from tests.oauth.test_refresh import age
from tests.provider_resources.helpers import slack_integration
from tests.support.factory import Factory, Tenant

SENTINEL = "SENTINEL-health-check-twilio-token-77c1"
# OAuth kinds checked with their catalogue token-info call (Asana: its own check), connected
# through the sandbox.
TOKEN_INFO_KINDS = [
    "linear", "clickup", "hubspot", "google-sheets", "intercom", "snapchat", "pinterest-ads",
    "meta-ads", "instagram", "asana",
]  # fmt: skip


async def _twilio(client: httpx.AsyncClient, tenant: Tenant, sandbox: SandboxServer) -> tuple[int, str]:
    sid = twilio.add_account(sandbox.state, auth_token=SENTINEL)
    made = await client.post(
        f"{tenant.base}/integrations/",
        json={"kind": "twilio", "config": {"account_sid": sid, "auth_token": SENTINEL}},
        headers=tenant.headers,
    )
    assert made.status_code == 201, made.text
    return int(made.json()["id"]), sid


@pytest.mark.parametrize("kind", TOKEN_INFO_KINDS)
async def test_oauth_kind_checked_then_revoked(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer, kind: str
) -> None:
    assert registry.health_check(kind) is not None
    await subscribe(client, tenant)
    pk = await connect(client, tenant, kind)
    calls_before = sandbox.state.count_calls(sim_prefix(runtime.settings, kind))
    body = await check(client, tenant, pk)
    assert body["health"]["status"] == "healthy"
    assert body["health"]["last_checked_at"] is not None and body["health"]["detail"] is None
    assert sandbox.state.count_calls(sim_prefix(runtime.settings, kind)) > calls_before  # it did call

    sandbox.state.revoke(secrets_of(runtime, await row(runtime, pk))["access_token"])
    body = await check(client, tenant, pk)
    assert body["health"]["status"] == "reauthorization_required"
    assert "reconnect" in body["health"]["detail"]
    assert body["errors"] == ""  # PostHog's field only tracks refreshes
    assert [e["type"] for e in await health_events(runtime)] == ["integration.reauthorization_required"]


async def test_slack_auth_test(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer, factory: Factory
) -> None:
    await subscribe(client, tenant)
    integration, token = await slack_integration(factory, sandbox, tenant)
    body = await check(client, tenant, integration.id)
    assert body["health"]["status"] == "healthy"
    assert sandbox.state.count_calls("slack", "auth.test") >= 1
    sandbox.state.revoke(token)
    body = await check(client, tenant, integration.id)
    assert body["health"]["status"] == "reauthorization_required"
    events = await health_events(runtime)
    assert [e["type"] for e in events] == ["integration.reauthorization_required"]
    assert token not in str(events) and token not in str(body)
    assert slack_api.NAME == "slack"


async def test_twilio_check_outage_then_recovery(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    await subscribe(client, tenant)
    pk, sid = await _twilio(client, tenant, sandbox)
    created = (await client.get(f"{tenant.base}/integrations/{pk}/", headers=tenant.headers)).json()
    assert created["health"]["status"] == "healthy"  # the create verified the credentials
    assert created["health"]["last_checked_at"] is None

    sandbox.state.inject("twilio", "503", count=10)
    body = await check(client, tenant, pk)
    assert body["health"]["status"] == "refresh_failed"  # an outage: never reauthorization_required
    assert "try again later" in body["health"]["detail"]
    assert sandbox.state.count_calls("twilio", sid) == 3 + 1  # the create's fetch, then 3 attempts
    sandbox.state.clear_faults()
    body = await check(client, tenant, pk)
    assert body["health"] == {**body["health"], "status": "healthy", "detail": None}
    assert [e["type"] for e in await health_events(runtime)] == [
        "integration.refresh_failed",
        "integration.recovered",
    ]

    log = (await client.get(f"{tenant.base}/integrations/{pk}/activity/", headers=tenant.headers)).json()
    assert [(r["action"], r["outcome"]) for r in log["results"]] == [
        ("check", "healthy"),  # newest first
        ("check", "refresh_failed"),
    ]
    key_ids = {r["api_key_id"] for r in log["results"]}
    assert len(key_ids) == 1 and None not in key_ids and tenant.key not in str(log)  # the id, not the key

    sandbox.state.provider_data("twilio")["accounts"][sid]["auth_token"] = "rotated-by-the-owner"
    body = await check(client, tenant, pk)
    assert body["health"]["status"] == "reauthorization_required"
    events = await health_events(runtime)
    assert events[-1]["type"] == "integration.reauthorization_required"
    assert events[-1]["data"]["error"]["code"] == "auth"
    assert SENTINEL not in str(events) and SENTINEL not in str(body)


async def test_a_transient_failure_never_overrules_reauthorization_required(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    pk = await connect(client, tenant, "linear")
    sandbox.state.revoke(secrets_of(runtime, await row(runtime, pk))["access_token"])
    assert (await check(client, tenant, pk))["health"]["status"] == "reauthorization_required"
    sandbox.state.inject("linear", "500", count=10)
    assert (await check(client, tenant, pk))["health"]["status"] == "reauthorization_required"


async def test_check_refreshes_a_due_token_first(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, sandbox: SandboxServer
) -> None:
    await subscribe(client, tenant)
    pk = await connect(client, tenant, "linear")
    await age(runtime, pk, 3000)
    sandbox.state.revoke(secrets_of(runtime, await row(runtime, pk))["refresh_token"])
    body = await check(client, tenant, pk)
    assert body["errors"] == TOKEN_REFRESH_FAILED
    assert body["health"]["status"] == "reauthorization_required"
    assert body["health"]["last_checked_at"] is not None
    events = await health_events(runtime)
    assert [(e["type"], e["data"]["error"]["code"]) for e in events] == [
        ("integration.reauthorization_required", "invalid_grant")
    ]


@pytest.mark.parametrize(("kind", "integration_id"), [("databricks", "db.example.com"), ("stripe", "acct_1")])
async def test_a_kind_with_no_check_stays_unknown_and_says_so(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer, kind: str,
    integration_id: str,
) -> None:  # fmt: skip
    assert registry.health_check(kind) is None
    made = await factory.integration(tenant.project, kind, integration_id, {}, {"access_token": "x"}, tenant.user)
    body = await check(client, tenant, made.id)
    assert body["health"]["status"] == "unknown"
    assert body["health"]["detail"] == (
        f"Patchbay has no verification call for {registry.display_name(kind)} integrations: "
        "their health stays unknown."
    )
    assert body["health"]["last_checked_at"] is None
    assert sandbox.state.calls == []


async def test_unknown_and_other_projects_integrations_are_404(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory
) -> None:
    other = await factory.tenant()
    made = await factory.integration(other.project, "twilio", "AC1")
    for pk in (made.id, 999999):
        response = await client.post(f"{tenant.base}/integrations/{pk}/check/", headers=tenant.headers)
        assert response.status_code == 404
        assert response.json()["type"] == "invalid_request"
