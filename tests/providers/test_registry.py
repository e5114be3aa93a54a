"""The provider registry and the capabilities providers declare beside resources and OAuth: every
kind has one owner, a missing capability is a 400, and the health checks and proxy auth of Slack
and Twilio work against their simulators."""

from __future__ import annotations

import httpx
import pytest

from patchbay.config import Settings
from patchbay.kit.errors import ValidationError
from patchbay.kit.provider_errors import Failure, UpstreamError
from patchbay.providers import registry
from patchbay.providers.slack import simulator_api as slack_sim
from patchbay.providers.twilio import simulator as twilio_sim
from patchbay.sandbox.server import SandboxServer


def test_every_kind_has_one_provider_and_routes_are_unique() -> None:
    owners: dict[str, str] = {}
    for provider in registry.providers():
        for kind in provider.kinds:
            assert kind not in owners, f"{kind} registered by {owners[kind]} and {provider.name}"
            owners[kind] = provider.name
    assert owners["slack"] == "slack" and owners["vercel"] == "vercel" and owners["asana"] == "asana"
    paths = [route.path for route in registry.resource_routes()]
    assert len(paths) == len(set(paths))
    assert {"channels", "users", "linear_teams", "twilio_phone_numbers", "asana_workspaces"} <= set(paths)


def test_package_oauth_entries_join_the_catalogue() -> None:
    assert registry.oauth_provider("asana") is not None
    assert "asana" in registry.oauth_providers() and "slack" in registry.oauth_providers()
    assert registry.oauth_provider("twilio") is None


def test_missing_capability_is_a_400() -> None:
    assert registry.org_kind("slack") is None
    with pytest.raises(ValidationError) as raised:
        registry.require_org_kind("slack", "Environment mapping")
    assert raised.value.status_code == 400
    assert raised.value.detail == "Environment mapping is not supported for Slack integrations."
    assert registry.require_org_kind("vercel", "Environment mapping") is registry.org_kind("vercel")


async def test_slack_health_check(settings: Settings, sandbox: SandboxServer) -> None:
    health = registry.for_kind("slack").health  # type: ignore[union-attr]
    assert health is not None
    token = slack_sim.issue_token(sandbox.state)
    await health.check(settings, {}, {"access_token": token})
    sandbox.state.revoke(token)
    with pytest.raises(UpstreamError) as raised:
        await health.check(settings, {}, {"access_token": token})
    assert raised.value.failure is Failure.AUTH


async def test_twilio_health_check_and_proxy_auth(settings: Settings, sandbox: SandboxServer) -> None:
    provider = registry.for_kind("twilio")
    assert provider is not None and provider.health is not None and provider.proxy is not None
    sid = twilio_sim.add_account(sandbox.state, auth_token="right")
    await provider.health.check(settings, {"account_sid": sid}, {"auth_token": "right"})
    with pytest.raises(UpstreamError) as raised:
        await provider.health.check(settings, {"account_sid": sid}, {"auth_token": "wrong"})
    assert raised.value.failure is Failure.AUTH

    base = provider.proxy.base_url(settings, {"account_sid": sid})
    request = httpx.Request("GET", f"{base}/2010-04-01/Accounts/{sid}.json")
    provider.proxy.authorize(request, {"account_sid": sid}, {"auth_token": "right"})
    async with httpx.AsyncClient() as client:
        answered = await client.send(request)
    assert answered.status_code == 200 and answered.json()["sid"] == sid
