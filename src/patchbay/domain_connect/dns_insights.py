"""Best-effort hints shown beside the Domain Connect check: who hosts the zone (NS records), which
email tools the domain already uses, and whether it publishes DMARC."""

from __future__ import annotations

import asyncio

import dns.asyncresolver
import dns.exception
import dns.resolver

from patchbay.config import Settings
from patchbay.domain_connect.discovery import CACHE_TTL, TransientLookupFailure, txt_values
from patchbay.kit.cache import Cache
from patchbay.kit.dns import make_resolver

HINT_LIFETIME = 3.0
DMARC_LIFETIME = 5.0

CLOUDFLARE_DNS_URL = "https://dash.cloudflare.com/?to=/:account/:zone/dns/records"
# (marker matched against "." + nameserver, name, DNS settings URL)
DNS_HOSTS: tuple[tuple[str, str, str], ...] = (
    (".awsdns-", "Route 53", "https://console.aws.amazon.com/route53/v2/hostedzones"),
    (".domaincontrol.com", "GoDaddy", "https://dcc.godaddy.com/control/portfolio"),
    (".registrar-servers.com", "Namecheap", "https://ap.www.namecheap.com/domains/list/"),
    (".squarespacedns.com", "Squarespace", "https://account.squarespace.com/domains"),
    (".dns-parking.com", "Hostinger", "https://hpanel.hostinger.com/domains"),
    (".hostinger.", "Hostinger", "https://hpanel.hostinger.com/domains"),
    (".ui-dns.", "IONOS", "https://my.ionos.com/domains"),
    (".digitalocean.com", "DigitalOcean", "https://cloud.digitalocean.com/networking/domains"),
    (".ns.cloudflare.com", "Cloudflare", CLOUDFLARE_DNS_URL),
    (".vercel-dns.com", "Vercel", "https://vercel.com/dashboard/domains"),
)

# (substring of an SPF include or DKIM target, tool name), in the order answers list them
EMAIL_TOOL_MARKERS: tuple[tuple[str, str], ...] = (
    ("customeriomail.com", "Customer.io"),
    ("mcsv.net", "Mailchimp"),
    ("mandrillapp.com", "Mailchimp"),
    ("sendgrid.net", "SendGrid"),
    ("mailgun.org", "Mailgun"),
    ("mtasv.net", "Postmark"),
    ("hubspotemail.net", "HubSpot"),
    ("klaviyo", "Klaviyo"),
    ("brevo.com", "Brevo"),
    ("sendinblue.com", "Brevo"),
)
RESEND = "Resend"
DKIM_SELECTORS = ("k1", "s1", "kl", "brevo1")


async def dns_host(settings: Settings, cache: Cache, root: str) -> dict[str, str] | None:
    key = f"domain_connect:dns_host:{root}"
    cached = await cache.get(key)
    if cached is not None:
        return cached or None
    resolver = make_resolver(settings, lifetime=HINT_LIFETIME)
    try:
        answer = await resolver.resolve(root, "NS")
        nameservers = [rdata.to_text().rstrip(".").lower() for rdata in answer]
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        nameservers = []
    except (dns.exception.DNSException, OSError):
        return None  # not cached: the next check asks again
    found = None
    for marker, name, url in DNS_HOSTS:
        if any(marker in "." + ns for ns in nameservers):
            found = {"name": name, "dns_settings_url": url}
            break
    await cache.set(key, found or False, CACHE_TTL)
    return found


async def _cname_target(resolver: dns.asyncresolver.Resolver, name: str) -> str | None:
    try:
        answer = await resolver.resolve(name, "CNAME")
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return None
    except (dns.exception.DNSException, OSError) as exc:
        raise TransientLookupFailure(name) from exc
    return answer[0].to_text().rstrip(".").lower()


async def existing_email_tools(settings: Settings, cache: Cache, root: str) -> list[str]:
    """Tools seen in SPF includes, DKIM CNAMEs and Resend's DKIM record; cached only when every
    lookup answered. The lookups run side by side so a dead zone costs one timeout, not seven."""
    key = f"domain_connect:email_tools:{root}"
    cached = await cache.get(key)
    if cached is not None:
        return list(cached)
    resolver = make_resolver(settings, lifetime=HINT_LIFETIME)
    spf, resend, *dkim = await asyncio.gather(
        txt_values(resolver, root),
        txt_values(resolver, f"resend._domainkey.{root}"),
        *(_cname_target(resolver, f"{selector}._domainkey.{root}") for selector in DKIM_SELECTORS),
        return_exceptions=True,
    )
    answers = [spf, resend, *dkim]
    complete = not any(isinstance(a, BaseException) for a in answers)
    evidence: list[str] = [target for target in dkim if isinstance(target, str)]
    for value in spf if isinstance(spf, list) else []:
        if value.lower().startswith("v=spf1"):
            evidence += [t[len("include:") :] for t in value.lower().split() if t.startswith("include:")]
    tools: list[str] = []
    for marker, name in EMAIL_TOOL_MARKERS:
        if name not in tools and any(marker in item for item in evidence):
            tools.append(name)
    if isinstance(resend, list) and resend:
        tools.append(RESEND)
    if complete:
        await cache.set(key, tools, CACHE_TTL)
    return tools


async def has_dmarc(settings: Settings, domain: str) -> bool | None:
    """True when `_dmarc.{domain}` publishes DMARC, False when DNS confirms it does not, None when
    the lookup failed."""
    try:
        values = await txt_values(make_resolver(settings, lifetime=DMARC_LIFETIME), f"_dmarc.{domain}")
    except TransientLookupFailure:
        return None
    return any(value.lower().startswith("v=dmarc1") for value in values or [])
