"""An email sender made on the connect page continues to the Domain Connect button where the
domain's DNS provider supports it (real DNS server, Domain Connect provider and moto's SES)."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import httpx

from patchbay.runtime import Runtime
from tests.connect.helpers import csrf_token, field_error, heading, integrations, new_link
from tests.support.dns_server import DNSTestServer
from tests.support.domain_connect_env import *  # noqa: F403
from tests.support.domain_connect_provider import DomainConnectProvider
from tests.support.factory import Tenant


async def test_a_sender_on_a_supported_domain_gets_the_dns_button(
    client: httpx.AsyncClient,
    tenant: Tenant,
    runtime: Runtime,
    dns_zone: DNSTestServer,
    dc_provider: DomainConnectProvider,
) -> None:
    dc_provider.host_zone("acme-mail.com")
    link = await new_link(client, tenant, kinds=["email"], next="/senders")
    page = await client.get(link)
    assert 'name="email"' in page.text and 'name="mail_from_subdomain"' in page.text
    token = csrf_token(page.text)
    bad = await client.post(
        f"{link}/kinds/email", data={"csrf_token": token, "email": "nope", "name": "News"}
    )
    assert bad.status_code == 400
    assert field_error(bad.text, "email", "email") == "Enter a valid email address."
    assert await integrations(runtime) == []
    done = await client.post(
        f"{link}/kinds/email", data={"csrf_token": token, "email": "hello@news.acme-mail.com", "name": "News"}
    )
    assert done.status_code == 200, done.text
    (sender,) = await integrations(runtime)
    assert sender.kind == "email" and sender.config["domain"] == "news.acme-mail.com"
    assert heading(done.text) == "✓ Email sender is connected"
    found = re.search(r'<a class="button" href="([^"]+)" target="_blank"', done.text)
    assert found and "Set up DNS with Cloudflare" in done.text
    apply_url = unescape(found.group(1))
    assert apply_url.startswith(f"{dc_provider.url_sync_ux}/v2/domainTemplates/providers/patchbay.dev/")
    assert f'href="/senders?integration_id={sender.id}&amp;kind=email"' in done.text
    # The button works: the DNS provider accepts the signed URL and writes the records.
    async with httpx.AsyncClient() as browser:
        applied = await browser.get(apply_url)
    assert applied.status_code in (200, 302), applied.text
    assert dc_provider.rejections == []
    assert dns_zone.records("feedback.news.acme-mail.com", "MX")


async def test_a_sender_elsewhere_goes_straight_on(
    client: httpx.AsyncClient, tenant: Tenant, runtime: Runtime, dns_zone: DNSTestServer, moto_ses: str
) -> None:
    link = await new_link(client, tenant, kinds=["email"], next="/senders")
    token = csrf_token((await client.get(link)).text)
    done = await client.post(
        f"{link}/kinds/email", data={"csrf_token": token, "email": "hi@plain-dns.example", "name": "Hi"}
    )
    assert done.status_code == 303, done.text
    (sender,) = await integrations(runtime)
    target = urlsplit(done.headers["location"])
    assert target.path == "/senders"
    assert parse_qs(target.query) == {"integration_id": [str(sender.id)], "kind": ["email"]}
