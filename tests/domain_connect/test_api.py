"""GET …/integrations/domain-connect/check and POST …/integrations/domain-connect/apply-url."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlsplit

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from patchbay.domain_connect import template_store
from patchbay.domain_connect.service import APPLY_URL_FAILED, SIGNING_KEY_MISSING
from patchbay.models import MembershipLevel
from tests.support.dns_server import SERVFAIL, DNSTestServer
from tests.support.domain_connect_env import create_sender
from tests.support.domain_connect_provider import DomainConnectProvider
from tests.support.factory import Factory, Tenant

CHECK = "/integrations/domain-connect/check/"
APPLY = "/integrations/domain-connect/apply-url/"
ClientWith = Callable[..., Awaitable[httpx.AsyncClient]]


def error(detail: str, attr: str | None = None, code: str = "invalid_input") -> dict[str, Any]:
    return {"type": "validation_error", "code": code, "detail": detail, "attr": attr}


def query_of(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


def assert_signed(url: str, key: rsa.RSAPrivateKey) -> None:
    query = urlsplit(url).query
    signed, _, tail = query.partition("&sig=")
    sig, _, key_id = tail.partition("&key=")
    assert key_id == "_dcpubkeyv1"
    key.public_key().verify(
        base64.b64decode(unquote_plus(sig)), signed.encode(), padding.PKCS1v15(), hashes.SHA256()
    )


# --- check ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("params", [{}, {"domain": ""}, {"domain": "  "}])
async def test_check_needs_a_domain(
    client: httpx.AsyncClient, tenant: Tenant, dns_zone: DNSTestServer, params: dict[str, str]
) -> None:
    response = await client.get(tenant.base + CHECK, params=params, headers=tenant.headers)
    assert response.status_code == 400
    assert response.json() == error("domain query parameter is required")


async def test_check_supported(
    client: httpx.AsyncClient, tenant: Tenant, dns_zone: DNSTestServer, dc_provider: DomainConnectProvider
) -> None:
    dc_provider.host_zone("acme-check.com")
    dns_zone.add("acme-check.com", "NS", "ada.ns.cloudflare.com")
    dns_zone.add("acme-check.com", "TXT", "v=spf1 include:sendgrid.net ~all")
    response = await client.get(
        tenant.base + CHECK, params={"domain": "mail.acme-check.com"}, headers=tenant.headers
    )
    assert response.status_code == 200
    assert response.json() == {
        "supported": True,
        "provider_name": "Cloudflare",
        "available_providers": [],
        "dns_host": {
            "name": "Cloudflare",
            "dns_settings_url": "https://dash.cloudflare.com/?to=/:account/:zone/dns/records",
        },
        "existing_email_tools": ["SendGrid"],
    }
    # Discovery asks the zone root, never the subdomain.
    assert ("_domainconnect.acme-check.com", "TXT") in dns_zone.queries
    assert not any(name.startswith("_domainconnect.mail.") for name, _ in dns_zone.queries)


async def test_check_unsupported_lists_the_providers(
    client: httpx.AsyncClient, tenant: Tenant, dns_zone: DNSTestServer, dc_provider: DomainConnectProvider
) -> None:
    response = await client.get(
        tenant.base + CHECK, params={"domain": "nowhere-dc.com"}, headers=tenant.headers
    )
    assert response.status_code == 200
    assert response.json() == {
        "supported": False,
        "provider_name": None,
        "available_providers": [
            {"endpoint": dc_provider.endpoint, "name": "Cloudflare"},
            {"endpoint": "domainconnect.vercel.com", "name": "Vercel"},
        ],
        "dns_host": None,
        "existing_email_tools": [],
    }


@pytest.mark.parametrize("fault", ["dns-timeout", "dns-servfail", "500", "429", "malformed", "timeout"])
async def test_transient_faults_are_a_clear_400_and_not_cached(
    client: httpx.AsyncClient,
    tenant: Tenant,
    dns_zone: DNSTestServer,
    dc_provider: DomainConnectProvider,
    fault: str,
) -> None:
    dc_provider.host_zone("flaky-dc.com")
    if fault == "dns-timeout":
        dns_zone.fail("_domainconnect.flaky-dc.com", "timeout")
    elif fault == "dns-servfail":
        dns_zone.fail("_domainconnect.flaky-dc.com", SERVFAIL)
    else:
        dc_provider.fail_settings(fault)
    response = await client.get(
        tenant.base + CHECK, params={"domain": "flaky-dc.com"}, headers=tenant.headers
    )
    assert response.status_code == 400
    assert response.json() == error(
        "We could not reach the DNS of flaky-dc.com or its DNS provider just now. Please try again in a moment."
    )
    dns_zone.clear_faults()
    again = await client.get(tenant.base + CHECK, params={"domain": "flaky-dc.com"}, headers=tenant.headers)
    assert again.status_code == 200
    assert again.json()["supported"] is True


async def test_check_needs_integration_read(
    client: httpx.AsyncClient, factory: Factory, dns_zone: DNSTestServer
) -> None:
    limited = await factory.tenant(scopes=["proxy_record:read"])
    response = await client.get(limited.base + CHECK, params={"domain": "a.com"}, headers=limited.headers)
    assert response.status_code == 403
    assert response.json()["detail"] == "API key missing required scope 'integration:read'"
    reader = await factory.tenant(scopes=["integration:read"])
    assert (
        await client.get(reader.base + CHECK, params={"domain": "a.com"}, headers=reader.headers)
    ).status_code == 200


# --- apply-url: validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"context": "email", "provider_endpoint": "evil.example"}, error("Unsupported provider endpoint")),
        ({"provider_endpoint": "evil.example"}, error("Unsupported provider endpoint")),
        ({"context": "email"}, error("integration_id is required for email context")),
        ({"context": "proxy", "integration_id": 1}, error("proxy_record_id is required for proxy context")),
        ({}, error("context must be 'email' or 'proxy'")),
        ({"context": "dns", "integration_id": 1}, error("context must be 'email' or 'proxy'")),
        (
            {"context": "email", "integration_id": "abc"},
            error("A valid integer is required.", "integration_id"),
        ),
        ({"context": "proxy", "proxy_record_id": "nope"}, error("Must be a valid UUID.", "proxy_record_id")),
    ],
)
async def test_apply_url_validation(
    client: httpx.AsyncClient,
    tenant: Tenant,
    dns_zone: DNSTestServer,
    body: dict[str, Any],
    expected: dict[str, Any],
) -> None:
    response = await client.post(tenant.base + APPLY, json=body, headers=tenant.headers)
    assert response.status_code == 400
    assert response.json() == expected


async def test_apply_url_needs_project_admin_and_write_scope(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, dns_zone: DNSTestServer
) -> None:
    member = await factory.member_of(tenant, MembershipLevel.MEMBER)
    response = await client.post(
        tenant.base + APPLY, json={"context": "email", "integration_id": 1}, headers=member.headers
    )
    assert response.status_code == 403
    assert response.json()["detail"] == "You don't have sufficient permissions in the project."
    reader = await factory.member_of(tenant, MembershipLevel.ADMIN, scopes=["integration:read"])
    response = await client.post(
        tenant.base + APPLY, json={"context": "email", "integration_id": 1}, headers=reader.headers
    )
    assert response.status_code == 403
    assert response.json()["detail"] == "API key missing required scope 'integration:write'"


async def test_unknown_or_foreign_records_are_404(
    client: httpx.AsyncClient, tenant: Tenant, factory: Factory, dns_zone: DNSTestServer
) -> None:
    other = await factory.tenant()
    foreign = await client.post(
        f"{other.org_base}/proxy_records/", json={"domain": "x.foreign-dc.com"}, headers=other.headers
    )
    for body in (
        {"context": "proxy", "proxy_record_id": foreign.json()["id"]},
        {"context": "proxy", "proxy_record_id": "00000000-0000-0000-0000-000000000000"},
        {"context": "email", "integration_id": 999999},
    ):
        response = await client.post(tenant.base + APPLY, json=body, headers=tenant.headers)
        assert response.status_code == 404, body


async def test_email_context_needs_an_email_sender_with_tokens(
    client: httpx.AsyncClient,
    client_with: ClientWith,
    tenant: Tenant,
    factory: Factory,
    dns_zone: DNSTestServer,
) -> None:
    twilio = await factory.integration(tenant.project, "twilio", "AC123")
    message = error("Validation error resolving email context. Please try again later or contact support.")
    response = await client.post(
        tenant.base + APPLY, json={"context": "email", "integration_id": twilio.id}, headers=tenant.headers
    )
    assert response.status_code == 400
    assert response.json() == message
    # maildev hands out no SES tokens.
    local = await client_with(email_provider="maildev")
    sender = await create_sender(local, tenant, "dev@local-dc.com", provider="maildev")
    response = await local.post(
        tenant.base + APPLY, json={"context": "email", "integration_id": sender["id"]}, headers=tenant.headers
    )
    assert response.status_code == 400
    assert response.json() == message


# --- apply-url: the URL -----------------------------------------------------------------------------


async def test_email_url_carries_exactly_the_template_variables(
    client: httpx.AsyncClient,
    tenant: Tenant,
    dns_zone: DNSTestServer,
    dc_provider: DomainConnectProvider,
    signing_key: rsa.RSAPrivateKey,
    signing_key_pem: str,
) -> None:
    dc_provider.host_zone("acme-url.co.uk")
    dns_zone.add("_dmarc.news.acme-url.co.uk", "TXT", "v=DMARC1; p=quarantine")
    sender = await create_sender(client, tenant, "hi@news.acme-url.co.uk", mail_from_subdomain="bounce")
    response = await client.post(
        tenant.base + APPLY,
        json={
            "context": "email",
            "integration_id": sender["id"],
            "redirect_uri": "https://app.example.com/s?x=1",
        },
        headers=tenant.headers,
    )
    assert response.status_code == 200, response.text
    assert list(response.json()) == ["url"]
    url = response.json()["url"]
    assert signing_key_pem.split("\\n")[1] not in response.text
    params = query_of(url)
    names = [name for name, _ in params]
    assert names[:2] == ["domain", "host"]
    assert names[-4:] == ["groupId", "redirect_uri", "sig", "key"]
    values = dict(params)
    assert values["domain"] == "acme-url.co.uk" and values["host"] == "news"
    # A DMARC record exists, so the dmarc group is left out.
    assert values["groupId"] == "verification,dkim,spf,mailfrom"
    assert "groupId=verification%2Cdkim%2Cspf%2Cmailfrom" in url
    assert values["redirect_uri"] == "https://app.example.com/s?x=1"
    assert values["mailFromSub"] == "bounce" and values["sesRegion"] == "us-east-1"
    template = template_store.templates(dc_provider_settings())["email-verification-us"]
    assert set(names) - {
        "domain",
        "host",
        "groupId",
        "redirect_uri",
        "sig",
        "key",
    } == template_store.placeholders(template)
    assert_signed(url, signing_key)


def dc_provider_settings() -> Any:
    from patchbay.config import Settings

    return Settings(_env_file=None, site_url="http://testserver")  # type: ignore[call-arg]


async def test_proxy_url_and_manual_provider_pick(
    client: httpx.AsyncClient,
    tenant: Tenant,
    dns_zone: DNSTestServer,
    dc_provider: DomainConnectProvider,
    signing_key: rsa.RSAPrivateKey,
) -> None:
    # The zone is hosted by the provider but publishes no _domainconnect record: auto-detection fails …
    dc_provider.host_zone("manual-dc.com", publish_discovery=False)
    record = (
        await client.post(
            f"{tenant.org_base}/proxy_records/", json={"domain": "e.ph.manual-dc.com"}, headers=tenant.headers
        )
    ).json()
    body: dict[str, Any] = {"context": "proxy", "proxy_record_id": record["id"]}
    response = await client.post(tenant.base + APPLY, json=body, headers=tenant.headers)
    assert response.status_code == 400
    assert response.json() == error(APPLY_URL_FAILED)
    # … and the person's pick of a listed provider skips it.
    response = await client.post(
        tenant.base + APPLY, json={**body, "provider_endpoint": dc_provider.endpoint}, headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    url = response.json()["url"]
    assert url.startswith(
        f"{dc_provider.url_sync_ux}/v2/domainTemplates/providers/patchbay.dev/services/reverse-proxy-us/apply?"
    )
    assert [n for n, _ in query_of(url)] == ["domain", "host", "target", "sig", "key"]
    assert dict(query_of(url))["host"] == "e.ph"
    assert dict(query_of(url))["target"] == record["target_cname"]
    assert_signed(url, signing_key)


async def test_eu_region_uses_the_eu_templates(
    client_with: ClientWith, tenant: Tenant, dns_zone: DNSTestServer, dc_provider: DomainConnectProvider
) -> None:
    eu = await client_with(ses_region="eu-west-1")
    dc_provider.host_zone("acme-eu.com")
    sender = await create_sender(eu, tenant, "hi@acme-eu.com")
    response = await eu.post(
        tenant.base + APPLY, json={"context": "email", "integration_id": sender["id"]}, headers=tenant.headers
    )
    assert response.status_code == 200, response.text
    assert "/services/email-verification-eu/apply?" in response.json()["url"]
    values = dict(query_of(response.json()["url"]))
    assert values["sesRegion"] == "eu-west-1"
    assert "host" not in values
    assert "groupId" not in values  # no DMARC record: every group, DMARC included


async def test_no_signing_key_is_a_clear_400(
    client_with: ClientWith, tenant: Tenant, dns_zone: DNSTestServer, dc_provider: DomainConnectProvider
) -> None:
    unsigned = await client_with(domain_connect_private_key=None)
    dc_provider.host_zone("nokey-dc.com")
    record = (
        await unsigned.post(
            f"{tenant.org_base}/proxy_records/", json={"domain": "ph.nokey-dc.com"}, headers=tenant.headers
        )
    ).json()
    response = await unsigned.post(
        tenant.base + APPLY,
        json={"context": "proxy", "proxy_record_id": record["id"]},
        headers=tenant.headers,
    )
    assert response.status_code == 400
    assert response.json() == error(SIGNING_KEY_MISSING)


@pytest.mark.parametrize("fault", ["dns-servfail", "500", "malformed"])
async def test_apply_url_transient_faults_are_400_and_not_cached(
    client: httpx.AsyncClient,
    tenant: Tenant,
    dns_zone: DNSTestServer,
    dc_provider: DomainConnectProvider,
    fault: str,
) -> None:
    dc_provider.host_zone("flaky-apply.com")
    record = (
        await client.post(
            f"{tenant.org_base}/proxy_records/", json={"domain": "ph.flaky-apply.com"}, headers=tenant.headers
        )
    ).json()
    if fault == "dns-servfail":
        dns_zone.fail("_domainconnect.flaky-apply.com", SERVFAIL)
    else:
        dc_provider.fail_settings(fault)
    body = {"context": "proxy", "proxy_record_id": record["id"]}
    response = await client.post(tenant.base + APPLY, json=body, headers=tenant.headers)
    assert response.status_code == 400
    assert response.json() == error(APPLY_URL_FAILED)
    dns_zone.clear_faults()
    assert (await client.post(tenant.base + APPLY, json=body, headers=tenant.headers)).status_code == 200


async def test_unsupported_provider_is_400(
    client: httpx.AsyncClient, tenant: Tenant, dns_zone: DNSTestServer
) -> None:
    dns_zone.add("_domainconnect.godaddy-dc.com", "TXT", "domainconnect.godaddy.com")
    record = (
        await client.post(
            f"{tenant.org_base}/proxy_records/", json={"domain": "ph.godaddy-dc.com"}, headers=tenant.headers
        )
    ).json()
    response = await client.post(
        tenant.base + APPLY,
        json={"context": "proxy", "proxy_record_id": record["id"]},
        headers=tenant.headers,
    )
    assert response.status_code == 400
    assert response.json() == error(APPLY_URL_FAILED)


@pytest.mark.parametrize("domain", ["exa mple.com", "a..b.com", "-x.com", "x" * 64 + ".com", "-localhost"])
async def test_check_refuses_names_that_are_not_domains(
    client: httpx.AsyncClient, tenant: Tenant, dns_zone: DNSTestServer, domain: str
) -> None:
    response = await client.get(tenant.base + CHECK, params={"domain": domain}, headers=tenant.headers)
    assert response.status_code == 400
    assert response.json() == error("Enter a valid domain name, e.g. example.com.", "domain")


async def test_a_single_label_name_is_not_supported_as_posthog_answers(
    client: httpx.AsyncClient, tenant: Tenant, dns_zone: DNSTestServer
) -> None:
    response = await client.get(tenant.base + CHECK, params={"domain": "localhost"}, headers=tenant.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [p["name"] for p in body.pop("available_providers")] == ["Cloudflare", "Vercel"]
    assert body == {"supported": False, "provider_name": None, "dns_host": None, "existing_email_tools": []}
    assert not [q for q in dns_zone.queries if "localhost" in q[0]]  # nothing asked


async def test_discovery_is_cached_in_redis(
    client_with: ClientWith, tenant: Tenant, dns_zone: DNSTestServer, dc_provider: DomainConnectProvider
) -> None:
    shared = await client_with(redis=True)
    dc_provider.host_zone("redis-dc.com")
    first = await shared.get(tenant.base + CHECK, params={"domain": "redis-dc.com"}, headers=tenant.headers)
    assert first.json()["supported"] is True
    dns_zone.remove("_domainconnect.redis-dc.com")
    dc_provider.zones.clear()
    # The answer comes from Redis now, without asking DNS or the provider again.
    again = await shared.get(tenant.base + CHECK, params={"domain": "redis-dc.com"}, headers=tenant.headers)
    assert again.json()["supported"] is True
