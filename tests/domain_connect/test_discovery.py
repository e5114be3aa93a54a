"""Discovery against the real loopback DNS server and DNS provider: answers and definite misses are
cached for an hour, transient failures are raised and never cached."""

from __future__ import annotations

import pytest

from patchbay.config import Settings
from patchbay.domain_connect import dns_insights
from patchbay.domain_connect.discovery import Discovery, TransientLookupFailure, discover
from patchbay.kit.cache import MemoryCache
from tests.support.dns_server import SERVFAIL, DNSTestServer
from tests.support.domain_connect_provider import DomainConnectProvider

ROOT = "acme-dc.com"


def _settings(dns_zone: DNSTestServer, provider: DomainConnectProvider) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        dns_nameservers=dns_zone.address,
        domain_connect_providers=f"{provider.endpoint}=Cloudflare,domainconnect.vercel.com=Vercel",
        domain_connect_allow_http=True,
        http_timeout=1.0,
    )


async def test_answer_is_cached(dns_zone: DNSTestServer, dc_provider: DomainConnectProvider) -> None:
    dc_provider.host_zone(ROOT)
    settings, cache = _settings(dns_zone, dc_provider), MemoryCache()
    expected = Discovery("Cloudflare", dc_provider.endpoint, dc_provider.url_sync_ux)
    assert await discover(settings, cache, ROOT) == expected
    dns_zone.remove(f"_domainconnect.{ROOT}")
    assert await discover(settings, cache, ROOT) == expected  # served from the cache
    assert 3590 < await cache.ttl(f"domain_connect:discovery:{ROOT}") <= 3600


@pytest.mark.parametrize("miss", ["no-record", "not-allowed", "settings-404", "no-sync-url"])
async def test_definite_misses_are_cached(
    dns_zone: DNSTestServer, dc_provider: DomainConnectProvider, miss: str
) -> None:
    settings, cache = _settings(dns_zone, dc_provider), MemoryCache()
    if miss == "not-allowed":
        dns_zone.add(f"_domainconnect.{ROOT}", "TXT", "domainconnect.godaddy.com")
    elif miss in ("settings-404", "no-sync-url"):
        dc_provider.host_zone(ROOT)
        dc_provider.fail_settings("404" if miss == "settings-404" else "no-sync")
    assert await discover(settings, cache, ROOT) is None
    dc_provider.host_zone(ROOT)  # would now be supported, but the miss stands for an hour
    assert await discover(settings, cache, ROOT) is None
    assert await cache.get(f"domain_connect:discovery:{ROOT}") is False


@pytest.mark.parametrize(
    "fault", ["dns-servfail", "settings-500", "settings-429", "settings-malformed", "settings-timeout"]
)
async def test_transient_failures_raise_and_are_not_cached(
    dns_zone: DNSTestServer, dc_provider: DomainConnectProvider, fault: str
) -> None:
    dc_provider.host_zone(ROOT)
    settings, cache = _settings(dns_zone, dc_provider), MemoryCache()
    if fault == "dns-servfail":
        dns_zone.fail(f"_domainconnect.{ROOT}", SERVFAIL)
    else:
        dc_provider.fail_settings(fault.removeprefix("settings-"))
    with pytest.raises(TransientLookupFailure):
        await discover(settings, cache, ROOT)
    assert await cache.get(f"domain_connect:discovery:{ROOT}") is None
    assert await cache.get(f"domain_connect:settings:{dc_provider.endpoint}:{ROOT}") is None
    dns_zone.clear_faults()
    found = await discover(settings, cache, ROOT)
    assert found is not None and found.provider_name == "Cloudflare"


async def test_dns_host_from_nameservers(dns_zone: DNSTestServer, dc_provider: DomainConnectProvider) -> None:
    settings, cache = _settings(dns_zone, dc_provider), MemoryCache()
    dns_zone.add(ROOT, "NS", "ns-12.awsdns-01.org")
    assert await dns_insights.dns_host(settings, cache, ROOT) == {
        "name": "Route 53",
        "dns_settings_url": "https://console.aws.amazon.com/route53/v2/hostedzones",
    }
    dns_zone.add("other-dc.com", "NS", "kim.ns.cloudflare.com")
    assert (await dns_insights.dns_host(settings, cache, "other-dc.com") or {})["name"] == "Cloudflare"
    assert await dns_insights.dns_host(settings, cache, "nothing-dc.com") is None
    assert await cache.get("domain_connect:dns_host:nothing-dc.com") is False
    dns_zone.fail("broken-dc.com", SERVFAIL)
    assert await dns_insights.dns_host(settings, cache, "broken-dc.com") is None
    assert await cache.get("domain_connect:dns_host:broken-dc.com") is None


async def test_existing_email_tools(dns_zone: DNSTestServer, dc_provider: DomainConnectProvider) -> None:
    settings, cache = _settings(dns_zone, dc_provider), MemoryCache()
    dns_zone.add(ROOT, "TXT", "v=spf1 include:sendgrid.net include:servers.mcsv.net ~all")
    dns_zone.add(ROOT, "TXT", "google-site-verification=abc")
    dns_zone.add(f"k1._domainkey.{ROOT}", "CNAME", "dkim.mcsv.net")
    dns_zone.add(f"resend._domainkey.{ROOT}", "TXT", "p=MIGfMA0")
    assert await dns_insights.existing_email_tools(settings, cache, ROOT) == [
        "Mailchimp",
        "SendGrid",
        "Resend",
    ]
    assert await cache.get(f"domain_connect:email_tools:{ROOT}") == ["Mailchimp", "SendGrid", "Resend"]
    # A failing lookup gives a partial answer that is not cached.
    dns_zone.fail("s1._domainkey.partial-dc.com", SERVFAIL)
    dns_zone.add("partial-dc.com", "TXT", "v=spf1 include:mailgun.org ~all")
    assert await dns_insights.existing_email_tools(settings, cache, "partial-dc.com") == ["Mailgun"]
    assert await cache.get("domain_connect:email_tools:partial-dc.com") is None


async def test_dmarc_probe(dns_zone: DNSTestServer, dc_provider: DomainConnectProvider) -> None:
    settings = _settings(dns_zone, dc_provider)
    dns_zone.add("_dmarc.has-dc.com", "TXT", "V=DMARC1; p=reject")
    dns_zone.add("_dmarc.other-dc.com", "TXT", "something else")
    dns_zone.fail("_dmarc.broken-dc.com", SERVFAIL)
    assert await dns_insights.has_dmarc(settings, "has-dc.com") is True
    assert await dns_insights.has_dmarc(settings, "other-dc.com") is False
    assert await dns_insights.has_dmarc(settings, "none-dc.com") is False
    assert await dns_insights.has_dmarc(settings, "broken-dc.com") is None
