"""The proxy of every OAuth kind, from its catalogue entry: a bearer token on calls to its data API.

A provider package with a ProxyAuth of its own (base.py) does not use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from patchbay.kit.errors import ValidationError
from patchbay.kit.provider_errors import Failure, UpstreamError

if TYPE_CHECKING:
    from patchbay.config import Settings


@dataclass(frozen=True)
class BearerProxy:
    """The proxy of an OAuth kind, from data: the access token goes in `Authorization: Bearer` on
    calls to the catalogue entry's `proxy_base` (its data API). Every OAuth kind without a ProxyAuth
    of its own gets one (registry.proxy_auth).

    Where the base comes from, first match: PATCHBAY_<KIND>_PROXY_URL; PATCHBAY_<KIND>_API_URL when
    the data API is the OAuth host (`separate` False: Slack, HubSpot ...; it moves both); the
    catalogue's base. A base naming `{instance_url}` (Salesforce) is the org's own host from the
    token answer, taken only when it is https on one of `trusted_hosts` (or lies under a configured
    PATCHBAY_<KIND>_PROXY_URL: a simulator or a private deployment)."""

    kind: str
    default_api_url: str
    refreshable: bool = True
    user_host: bool = False
    separate: bool = False
    trusted_hosts: tuple[str, ...] = ()

    def base_url(self, settings: Settings, config: Mapping[str, Any]) -> str:
        configured = settings.kind_setting(self.kind, "PROXY_URL")
        if INSTANCE_URL in self.default_api_url:
            return self._instance_base(configured, config)
        if configured:
            return configured
        if not self.separate:
            return settings.kind_setting(self.kind, "API_URL") or self.default_api_url
        return self.default_api_url

    def _instance_base(self, configured: str | None, config: Mapping[str, Any]) -> str:
        instance = config.get("instance_url")
        if isinstance(instance, str) and instance:
            trusted = trusted_https_origin(instance, self.trusted_hosts)
            if trusted:
                return self.default_api_url.replace(INSTANCE_URL, trusted)
            base = (configured or "").rstrip("/")
            if base and (instance == base or instance.startswith(base + "/")):
                return instance.rstrip("/")
        raise ValidationError(NO_INSTANCE)

    def authorize(self, request: httpx.Request, config: Mapping[str, Any], secrets: Mapping[str, Any]) -> None:
        token = secrets.get("access_token")
        if not isinstance(token, str) or not token:
            raise UpstreamError(self.kind, Failure.AUTH, "no access token")
        request.headers["Authorization"] = f"Bearer {token}"


INSTANCE_URL = "{instance_url}"
NO_INSTANCE = "This integration names no trusted instance to call. Please reconnect it."


def trusted_https_origin(url: str, host_suffixes: tuple[str, ...]) -> str | None:
    """`https://host` when `url` is plain https (no port, no userinfo) on a host ending with one of
    the suffixes; None otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or port is not None or not host or parts.netloc.lower() != host:
        return None
    return f"https://{host}" if host.endswith(host_suffixes) else None
