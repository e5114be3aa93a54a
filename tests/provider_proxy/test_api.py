"""The proxy against the sandbox: credentials injected per kind, the header rules both ways, the
caller's key never forwarded, kinds without an API refused, every call in the activity log."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import orjson

from patchbay.providers.slack import simulator_api as slack_api
from patchbay.runtime import Runtime
from patchbay.sandbox.server import SandboxServer
from tests.provider_proxy.helpers import TWILIO_TOKEN, slack_integration, twilio_integration
from tests.support.factory import Factory, Tenant


def _calls(sandbox: SandboxServer, provider: str) -> list[Any]:
    return [c for c in sandbox.state.calls if c.provider == provider]


async def test_a_slack_call_goes_out_with_the_bot_token_and_comes_back_marked(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer, runtime: Runtime
) -> None:
    row = await slack_integration(factory, tenant, sandbox)
    token = runtime.keyring.decrypt_json(row.sensitive_config)["access_token"]
    answer = await client.get(f"{tenant.base}/integrations/{row.id}/proxy/auth.test", headers=tenant.headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["ok"] is True and answer.json()["team_id"] == slack_api.DEFAULT_TEAM_ID
    assert answer.headers["patchbay-proxy"] == "upstream"
    [call] = _calls(sandbox, "slack")
    assert call.path == "/slack/api/auth.test" and call.method == "GET"
    assert call.headers["authorization"] == f"Bearer {token}"
    # The caller's key never reaches the provider, in any header or the query.
    assert all(tenant.key not in value for value in call.headers.values()) and tenant.key not in call.query


async def test_post_a_message_with_a_json_body(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    row = await slack_integration(factory, tenant, sandbox)
    channel = slack_api.add_channel(sandbox.state, "general")
    answer = await client.post(
        f"{tenant.base}/integrations/{row.id}/proxy/chat.postMessage",
        json={"channel": "#general", "text": "Deployed"},
        headers=tenant.headers,
    )
    assert answer.status_code == 200 and answer.json()["ok"] is True, answer.text
    assert [m["text"] for m in slack_api.messages(sandbox.state, channel["id"])] == ["Deployed"]
    assert _calls(sandbox, "slack")[-1].headers["content-type"] == "application/json"


async def test_twilio_gets_basic_auth(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    row, sid = await twilio_integration(factory, tenant, sandbox)
    answer = await client.get(
        f"{tenant.base}/integrations/{row.id}/proxy/2010-04-01/Accounts/{sid}.json", headers=tenant.headers
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["sid"] == sid and answer.headers["patchbay-proxy"] == "upstream"
    expected = "Basic " + base64.b64encode(f"{sid}:{TWILIO_TOKEN}".encode()).decode()
    assert _calls(sandbox, "twilio")[-1].headers["authorization"] == expected
    # The provider's own error statuses pass through as they are, marked as the provider's.
    other = await client.get(
        f"{tenant.base}/integrations/{row.id}/proxy/2010-04-01/Accounts/ACother.json", headers=tenant.headers
    )
    assert other.status_code == 401 and other.headers["patchbay-proxy"] == "upstream"
    assert other.json()["code"] == 20003


async def test_header_rules(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer, runtime: Runtime
) -> None:
    row = await slack_integration(factory, tenant, sandbox)
    token = runtime.keyring.decrypt_json(row.sensitive_config)["access_token"]
    answer = await client.get(
        f"{tenant.base}/integrations/{row.id}/proxy/auth.test",
        params={"personal_api_key": tenant.key, "pretty": "1"},
        headers={
            **tenant.headers,
            "Accept": "application/json",
            "Cookie": "session=sentinel-cookie",
            "X-Forwarded-For": "203.0.113.9",
            "X-Forwarded-Host": "evil.example",
            "X-Custom": "not-prefixed",
            "Patchbay-Proxy-X-Slack-Test": "yes",
            "Patchbay-Proxy-Authorization": "Bearer sentinel-override",
            "Patchbay-Proxy-Cookie": "c=sentinel",
            "Patchbay-Proxy-Host": "evil.example",
            "Patchbay-Proxy-X-Forwarded-For": "198.51.100.1",
        },
    )
    assert answer.status_code == 200, answer.text
    call = _calls(sandbox, "slack")[-1]
    assert call.headers["x-slack-test"] == "yes" and call.headers["accept"] == "application/json"
    assert call.headers["authorization"] == f"Bearer {token}"
    assert call.headers["host"] == sandbox.base_url.split("//", 1)[1]
    for name in ("cookie", "x-forwarded-for", "x-forwarded-host", "x-custom"):
        assert name not in call.headers, name
    assert not any(name.startswith("patchbay-") for name in call.headers)
    assert "sentinel" not in orjson.dumps(call.headers).decode()
    assert call.query == "pretty=1"


async def test_a_key_outside_the_authorization_header_is_refused_and_nothing_is_sent(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    row = await slack_integration(factory, tenant, sandbox)
    url = f"{tenant.base}/integrations/{row.id}/proxy/chat.postMessage"
    in_body = await client.post(url, json={"personal_api_key": tenant.key, "channel": "C1", "text": "x"})
    in_query = await client.get(url, params={"personal_api_key": tenant.key})
    for answer in (in_body, in_query):
        assert answer.status_code == 400, answer.text
        assert answer.json()["detail"] == "The proxy takes the API key in the Authorization header only."
        assert "patchbay-proxy" not in answer.headers
    assert _calls(sandbox, "slack") == []


async def test_a_kind_without_an_api_cannot_be_proxied(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    row = await factory.integration(tenant.project, kind="email", config={"email": "a@example.com"})
    answer = await client.get(f"{tenant.base}/integrations/{row.id}/proxy/anything", headers=tenant.headers)
    assert answer.status_code == 400
    assert answer.json() == {
        "type": "validation_error",
        "code": "invalid_input",
        "detail": "This integration kind cannot be proxied.",
        "attr": None,
    }
    assert "patchbay-proxy" not in answer.headers


async def test_another_projects_integration_is_404(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    other = await factory.tenant()
    theirs = await slack_integration(factory, other, sandbox)
    answer = await client.get(
        f"{tenant.base}/integrations/{theirs.id}/proxy/auth.test", headers=tenant.headers
    )
    assert answer.status_code == 404 and _calls(sandbox, "slack") == []


async def test_every_call_is_in_the_activity_log_without_its_query(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    row, sid = await twilio_integration(factory, tenant, sandbox)
    base = f"{tenant.base}/integrations/{row.id}"
    await client.get(f"{base}/proxy/2010-04-01/Accounts/{sid}.json?secret=sentinel-q", headers=tenant.headers)
    await client.delete(f"{base}/proxy/2010-04-01/Accounts/{sid}.json", headers=tenant.headers)
    await client.get(f"{base}/proxy/%2e%2e/x", headers=tenant.headers)
    log = (await client.get(f"{base}/activity/", headers=tenant.headers)).json()
    assert log["count"] == 3
    refused, deleted, fetched = log["results"]
    assert (fetched["action"], fetched["method"], fetched["status_code"], fetched["outcome"]) == (
        "proxy", "GET", 200, "success"
    )  # fmt: skip
    assert fetched["path"] == f"/2010-04-01/Accounts/{sid}.json" and fetched["duration_ms"] > 0
    assert (deleted["method"], deleted["status_code"], deleted["outcome"]) == (
        "DELETE",
        405,
        "upstream_error",
    )
    assert (refused["status_code"], refused["outcome"], refused["path"]) == (400, "invalid_input", None)
    key_id = fetched["api_key_id"]
    assert key_id and key_id not in tenant.key and tenant.key not in str(log)
    assert "sentinel" not in str(log)
