"""patchbay_proxy_requests_total{kind,status_class} and patchbay_proxy_duration_seconds on /metrics."""

from __future__ import annotations

import re

import httpx

from patchbay.sandbox.server import SandboxServer
from tests.provider_proxy.helpers import slack_integration, twilio_integration
from tests.support.factory import Factory, Tenant


def _value(text: str, name: str, labels: str) -> float:
    match = re.search(rf"^{name}\{{{re.escape(labels)}\}} (\S+)$", text, re.MULTILINE)
    return float(match.group(1)) if match else 0.0


async def test_calls_are_counted_by_kind_and_status_class(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, sandbox: SandboxServer
) -> None:
    slack = await slack_integration(factory, tenant, sandbox)
    twilio, _ = await twilio_integration(factory, tenant, sandbox)
    before = (await client.get("/metrics")).text
    await client.get(f"{tenant.base}/integrations/{slack.id}/proxy/auth.test", headers=tenant.headers)
    await client.get(f"{tenant.base}/integrations/{slack.id}/proxy/auth.test", headers=tenant.headers)
    await client.get(
        f"{tenant.base}/integrations/{twilio.id}/proxy/2010-04-01/Accounts/ACx.json", headers=tenant.headers
    )
    after = (await client.get("/metrics")).text
    ok = 'kind="slack",status_class="2xx"'
    refused = 'kind="twilio",status_class="4xx"'
    assert (
        _value(after, "patchbay_proxy_requests_total", ok)
        - _value(before, "patchbay_proxy_requests_total", ok)
        == 2
    )
    assert (
        _value(after, "patchbay_proxy_requests_total", refused)
        - _value(before, "patchbay_proxy_requests_total", refused)
        == 1
    )
    count = 'kind="slack"'
    assert (
        _value(after, "patchbay_proxy_duration_seconds_count", count)
        - _value(before, "patchbay_proxy_duration_seconds_count", count)
        == 2
    )
