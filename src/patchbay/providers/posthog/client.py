"""PostHog's API as the `posthog` kind reaches it: the instance's base URL (a user-typed host goes
through the address guard and a pinned client; the operator's default does not) and the one call
that proves a personal API key, GET /api/users/@me/."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from patchbay.config import Settings
from patchbay.kit.dns import HostNotAllowed, ensure_public_host
from patchbay.kit.http import GuardedClient, outbound_client
from patchbay.providers.credential_check import fetch_json

DEFAULT_API_URL = "https://us.posthog.com"
CLOUD_REGIONS = {"us.posthog.com": "US", "eu.posthog.com": "EU", "app.posthog.com": "US"}
ME_PATH = "/api/users/@me/"


def default_api_url(settings: Settings) -> str:
    return (settings.kind_setting("posthog", "API_URL") or DEFAULT_API_URL).rstrip("/")


class BadHost(ValueError):
    """The host is not a URL PostHog can live at; the message is for the user."""


@dataclass(frozen=True)
class Instance:
    base_url: str  # scheme://host[:port][/path], no trailing slash
    hostname: str
    typed_in: bool  # a host the user typed in: guarded and pinned

    @property
    def region(self) -> str | None:
        return CLOUD_REGIONS.get(self.hostname)


def instance(settings: Settings, host: str | None) -> Instance:
    """The instance a create request names: the user's `host`, or the operator's default."""
    if host is None:
        base = default_api_url(settings)
        return Instance(base, urlsplit(base).hostname or "", typed_in=False)
    text = host.strip().rstrip("/")
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise BadHost("PostHog host must be a URL such as https://us.posthog.com") from None
    if parts.scheme not in {"https", "http"} or not parts.hostname or parts.query or parts.fragment:
        raise BadHost("PostHog host must be a URL such as https://us.posthog.com")
    if parts.username is not None or parts.password is not None:
        raise BadHost("PostHog host must not contain credentials")
    base = f"{parts.scheme}://{parts.netloc}{parts.path}".rstrip("/")
    return Instance(base, parts.hostname.lower(), typed_in=True)


def stored_instance(settings: Settings, base_url: str) -> Instance:
    """The instance an integration was created with (typed in unless it is the operator's default)."""
    return Instance(base_url, (urlsplit(base_url).hostname or "").lower(), base_url != default_api_url(settings))


async def check_host(settings: Settings, found: Instance) -> None:
    """The address guard for a typed-in host. Plain http only inside the operator's own networks
    (PATCHBAY_USER_HOST_ALLOWED_NETWORKS): a personal API key never crosses the internet in clear."""
    if not found.typed_in:
        return
    addresses = await ensure_public_host(settings, found.hostname)  # raises HostNotAllowed
    if found.base_url.startswith("http://"):
        allowed = settings.user_host_networks()
        ips = [ipaddress.ip_address(a) for a in addresses]
        inside = all(any(ip.version == net.version and ip in net for net in allowed) for ip in ips)
        if not inside:
            raise BadHost("PostHog host must use https")


@asynccontextmanager
async def posthog_http(settings: Settings, found: Instance, api_key: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client for the instance with the key on every request: pinned to the checked address for a
    typed-in host (raises HostNotAllowed), a plain outbound client for the operator's default."""
    headers = {"Authorization": f"Bearer {api_key}"}
    timeout = httpx.Timeout(settings.http_timeout)
    if found.typed_in:
        guarded = GuardedClient(settings, timeout=timeout, headers=headers)
        try:
            await guarded.admit(found.hostname)
            yield guarded.http
        finally:
            await guarded.aclose()
    else:
        async with outbound_client(timeout=timeout, headers=headers) as client:
            yield client


async def current_user(settings: Settings, found: Instance, api_key: str) -> Any:
    """GET /api/users/@me/ with the key; raises UpstreamError, HostNotAllowed."""
    async with posthog_http(settings, found, api_key) as http:
        return await fetch_json(http, "posthog", "GET", found.base_url + ME_PATH)


__all__ = ["BadHost", "HostNotAllowed", "Instance", "check_host", "current_user", "instance", "stored_instance"]
