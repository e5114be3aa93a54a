"""The webhooks page over plain HTTP: create (the secret shown once), deliveries with status and
response code, ping, redeliver; a member sees the lists but is offered no form and refused."""

from __future__ import annotations

import re

import httpx

from patchbay.models import MembershipLevel
from patchbay.runtime import Runtime
from tests.console.helpers import signed_in, text_of
from tests.support.factory import Factory, Tenant
from tests.support.webhook_receiver import Receiver
from tests.webhook.helpers import deliver, signed_by


async def test_create_ping_and_see_deliveries_then_redeliver(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant, receiver: Receiver
) -> None:
    token = await signed_in(client, runtime, tenant)
    base = f"/console/projects/{tenant.project.id}/webhooks"
    made = await client.post(base, data={"csrf_token": token, "url": receiver.url, "events": ["ping"]})
    assert made.status_code == 201, made.text
    secret = text_of(made.text, "webhook-secret")
    assert secret.startswith("whsec_")
    endpoint_id = re.search(r'<tr data-webhook="([^"]+)">', made.text)
    assert endpoint_id
    page = f"{base}/{endpoint_id.group(1)}"
    assert secret not in (await client.get(base)).text  # shown once
    receiver.statuses = [503] * 4  # every attempt refused (the schedule is 0,0,0)
    assert (await client.post(f"{page}/ping", data={"csrf_token": token})).status_code == 303
    await deliver(runtime)
    first = receiver.wait_for(1)[0]
    assert signed_by(first, secret)
    listed = await client.get(page)
    row = re.search(r'<tr data-delivery="([^"]+)">(.*?)</tr>', listed.text, re.S)
    assert row and "ping" in row.group(2) and "503" in row.group(2)
    assert (
        await client.post(f"{page}/deliveries/{row.group(1)}/redeliver", data={"csrf_token": token})
    ).status_code == 303
    await deliver(runtime)
    receiver.wait_for(2)
    again = await client.get(page)
    assert 'class="health succeeded"' in again.text and '<td class="code">200' in again.text


async def test_a_bad_url_is_refused_with_the_services_words(
    client: httpx.AsyncClient, runtime: Runtime, tenant: Tenant
) -> None:
    token = await signed_in(client, runtime, tenant)
    made = await client.post(
        f"/console/projects/{tenant.project.id}/webhooks", data={"csrf_token": token, "url": "ftp://x"}
    )
    assert made.status_code == 400 and text_of(made.text, "webhook-error")


async def test_a_member_is_offered_no_form_and_refused(
    client: httpx.AsyncClient, runtime: Runtime, factory: Factory, tenant: Tenant, receiver: Receiver
) -> None:
    member = await factory.member_of(tenant, MembershipLevel.MEMBER)
    token = await signed_in(client, runtime, member)
    base = f"/console/projects/{tenant.project.id}/webhooks"
    page = await client.get(base)
    assert page.status_code == 200 and 'action="' + base + '"' not in page.text
    refused = await client.post(base, data={"csrf_token": token, "url": receiver.url})
    assert refused.status_code == 403 and "sufficient permissions" in refused.text
