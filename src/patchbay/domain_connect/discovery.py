"""Domain Connect discovery: the `_domainconnect` TXT record of the zone root, the allow-list of DNS
providers, then the provider's settings document. Answers and definite misses are cached for an
hour; transient failures (DNS timeout or SERVFAIL, HTTP 5xx or 429, timeouts, bad JSON) raise
`TransientLookupFailure` and are never cached, so the next call tries again."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import dns.asyncresolver
import dns.exception
import dns.resolver
import httpx

from patchbay.config import Settings
from patchbay.kit.cache import Cache
from patchbay.kit.dns import make_resolver
from patchbay.kit.http import outbound_client

CACHE_TTL = 3600.0
DNS_LIFETIME = 5.0
MISS = False  # what a definite miss is cached as


class TransientLookupFailure(Exception):
    """DNS or the provider failed in a way that may clear up on its own."""


@dataclass(frozen=True)
class Discovery:
    provider_name: str
    endpoint: str
    url_sync_ux: str


async def txt_values(resolver: dns.asyncresolver.Resolver, name: str) -> list[str] | None:
    """TXT strings of `name` (each record's strings joined), None when DNS says there are none.
    Timeouts, SERVFAIL and other failures raise TransientLookupFailure."""
    try:
        answer = await resolver.resolve(name, "TXT")
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return None
    except (dns.exception.DNSException, OSError) as exc:
        raise TransientLookupFailure(f"DNS lookup of {name} failed: {type(exc).__name__}") from exc
    return [b"".join(rdata.strings).decode(errors="replace").strip() for rdata in answer]


async def _discover_endpoint(settings: Settings, root: str) -> str | None:
    values = await txt_values(make_resolver(settings, lifetime=DNS_LIFETIME), f"_domainconnect.{root}")
    return next((value for value in values or [] if value), None)


async def fetch_provider_settings(settings: Settings, endpoint: str, root: str) -> dict[str, Any] | None:
    """GET {endpoint}/v2/{root}/settings. None for a definite "no"; raises for transient trouble."""
    scheme = "http" if settings.domain_connect_allow_http else "https"
    url = f"{scheme}://{endpoint}/v2/{root}/settings"
    try:
        async with outbound_client(timeout=settings.http_timeout) as client:
            response = await client.get(url, headers={"Accept": "application/json"})
    except httpx.HTTPError as exc:
        raise TransientLookupFailure(f"settings request failed: {type(exc).__name__}") from exc
    if response.status_code == 429 or response.status_code >= 500:
        raise TransientLookupFailure(f"settings answered {response.status_code}")
    if not response.is_success:
        return None
    try:
        document = response.json()
    except ValueError as exc:
        raise TransientLookupFailure("settings answered malformed JSON") from exc
    if not isinstance(document, dict):
        raise TransientLookupFailure("settings answered malformed JSON")
    if not isinstance(document.get("urlSyncUX"), str) or not document["urlSyncUX"]:
        return None
    return document


async def provider_settings(
    settings: Settings, cache: Cache, endpoint: str, root: str
) -> dict[str, Any] | None:
    key = f"domain_connect:settings:{endpoint}:{root}"
    cached = await cache.get(key)
    if cached is not None:
        return cached or None
    document = await fetch_provider_settings(settings, endpoint, root)
    await cache.set(key, document if document is not None else MISS, CACHE_TTL)
    return document


async def discover(settings: Settings, cache: Cache, root: str) -> Discovery | None:
    """The allowed DNS provider hosting `root` and its sync URL, or None when there is none."""
    key = f"domain_connect:discovery:{root}"
    cached = await cache.get(key)
    if cached is not None:
        return Discovery(**cached) if cached else None
    result = await _discover(settings, cache, root)
    await cache.set(key, asdict(result) if result else MISS, CACHE_TTL)
    return result


async def _discover(settings: Settings, cache: Cache, root: str) -> Discovery | None:
    endpoint = await _discover_endpoint(settings, root)
    allowed = settings.domain_connect_provider_map()
    if endpoint is None or endpoint not in allowed:
        return None
    document = await provider_settings(settings, cache, endpoint, root)
    if document is None:
        return None
    return Discovery(provider_name=allowed[endpoint], endpoint=endpoint, url_sync_ux=document["urlSyncUX"])
