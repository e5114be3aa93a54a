"""The whole one-click path, against a real DNS server, a Domain Connect DNS provider and moto's SES:
create → check → apply-url → the provider verifies the signature and writes the records → verified."""

from __future__ import annotations

import httpx
import pytest

from tests.support.dns_server import DNSTestServer
from tests.support.domain_connect_provider import DomainConnectProvider
from tests.support.factory import Tenant


async def test_email_sender_end_to_end(
    client: httpx.AsyncClient,
    tenant: Tenant,
    dns_zone: DNSTestServer,
    dc_provider: DomainConnectProvider,
    signing_key_pem: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    dc_provider.host_zone("acme-mail.com")
    created = await client.post(
        f"{tenant.base}/integrations/",
        headers=tenant.headers,
        json={"kind": "email", "config": {"email": "Hello@News.Acme-Mail.com", "name": "Acme News"}},
    )
    assert created.status_code == 201, created.text
    sender = created.json()
    assert sender["config"]["domain"] == "news.acme-mail.com"
    assert sender["config"]["verified"] is False

    before = await client.post(
        f"{tenant.base}/integrations/{sender['id']}/email/verify/", headers=tenant.headers
    )
    assert before.status_code == 200, before.text
    assert before.json()["status"] == "pending"

    check = await client.get(
        f"{tenant.base}/integrations/domain-connect/check/",
        params={"domain": "news.acme-mail.com"},
        headers=tenant.headers,
    )
    assert check.status_code == 200, check.text
    assert check.json()["supported"] is True
    assert check.json()["provider_name"] == "Cloudflare"

    applied = await client.post(
        f"{tenant.base}/integrations/domain-connect/apply-url/",
        headers=tenant.headers,
        json={
            "context": "email",
            "integration_id": sender["id"],
            "redirect_uri": "http://testserver/senders?domain_connect=email",
        },
    )
    assert applied.status_code == 200, applied.text
    url = applied.json()["url"]
    assert url.startswith(
        f"{dc_provider.url_sync_ux}/v2/domainTemplates/providers/patchbay.dev/services/email-verification-us/apply?"
    )

    # The browser opens the URL; the provider verifies, applies and redirects back.
    async with httpx.AsyncClient() as browser:
        response = await browser.get(url)
    assert response.status_code == 302, response.text
    assert response.headers["location"] == "http://testserver/senders?domain_connect=email"
    assert dc_provider.rejections == []
    # No DMARC record existed, so every group was applied, DMARC included.
    assert dns_zone.records("_dmarc.news.acme-mail.com", "TXT")[0].value == "v=DMARC1; p=none;"
    assert (
        dns_zone.records("feedback.news.acme-mail.com", "MX")[0].value
        == "10 feedback-smtp.us-east-1.amazonses.com"
    )

    after = await client.post(
        f"{tenant.base}/integrations/{sender['id']}/email/verify/", headers=tenant.headers
    )
    assert after.status_code == 200
    result = after.json()
    assert result["status"] == "success"
    assert {r["status"] for r in result["dnsRecords"]} == {"success"}
    stored = (await client.get(f"{tenant.base}/integrations/{sender['id']}/", headers=tenant.headers)).json()
    assert stored["config"]["verified"] is True
    assert stored["config"]["setup_method"] == "auto"
    key_line = signing_key_pem.split("\\n")[1]
    assert key_line not in caplog.text and key_line not in url


async def test_proxy_record_end_to_end(
    client: httpx.AsyncClient, tenant: Tenant, dns_zone: DNSTestServer, dc_provider: DomainConnectProvider
) -> None:
    dc_provider.host_zone("acme-shop.co.uk")
    created = await client.post(
        f"{tenant.org_base}/proxy_records/", headers=tenant.headers, json={"domain": "ph.acme-shop.co.uk"}
    )
    assert created.status_code == 201, created.text
    record = created.json()
    assert record["status"] == "waiting"

    check = await client.get(
        f"{tenant.base}/integrations/domain-connect/check/",
        params={"domain": record["domain"]},
        headers=tenant.headers,
    )
    assert check.json()["supported"] is True

    applied = await client.post(
        f"{tenant.base}/integrations/domain-connect/apply-url/",
        headers=tenant.headers,
        json={"context": "proxy", "proxy_record_id": record["id"]},
    )
    assert applied.status_code == 200, applied.text
    async with httpx.AsyncClient() as browser:
        response = await browser.get(applied.json()["url"])
    assert response.status_code == 200, response.text
    assert [r.value for r in dns_zone.records("ph.acme-shop.co.uk", "CNAME")] == [record["target_cname"]]

    fetched = await client.get(f"{tenant.org_base}/proxy_records/{record['id']}/", headers=tenant.headers)
    assert fetched.json()["status"] == "valid"


async def test_tampered_apply_url_is_refused_by_the_provider(
    client: httpx.AsyncClient, tenant: Tenant, dns_zone: DNSTestServer, dc_provider: DomainConnectProvider
) -> None:
    dc_provider.host_zone("acme-shop.com")
    record = (
        await client.post(
            f"{tenant.org_base}/proxy_records/", headers=tenant.headers, json={"domain": "t.acme-shop.com"}
        )
    ).json()
    url = (
        await client.post(
            f"{tenant.base}/integrations/domain-connect/apply-url/",
            headers=tenant.headers,
            json={"context": "proxy", "proxy_record_id": record["id"]},
        )
    ).json()["url"]
    tampered = url.replace(record["target_cname"].split(".")[0], "attacker0000000000000")
    assert tampered != url
    async with httpx.AsyncClient() as browser:
        response = await browser.get(tampered)
    assert response.status_code == 403
    assert dc_provider.rejections == ["invalid signature"]
    assert dns_zone.records("t.acme-shop.com") == []
