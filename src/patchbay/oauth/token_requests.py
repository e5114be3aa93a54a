"""Refresh and revoke requests at the provider (no database: refresh.py and revoke.py decide)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from patchbay.config import Settings
from patchbay.kit.http import outbound_client
from patchbay.oauth.authorize import http_timeout
from patchbay.oauth.token_endpoint import TokenAnswer, post_token
from patchbay.providers import registry
from patchbay.providers.catalog import OAuthProvider


@dataclass
class RefreshAnswer:
    ok: bool
    data: dict[str, Any]
    failure: str | None = None  # invalid_grant, invalid_client, http_5xx, rate_limited, network, other
    status: int | None = None
    retry_after: int | None = None


def classify(provider: OAuthProvider, answer: TokenAnswer) -> str:
    found = registry.oauth_quirks(provider.kind).classify_refresh_error(answer.status, answer.body)
    if found:
        return str(found)
    error = answer.data.get("error")
    if error == "invalid_grant":
        return "invalid_grant"
    if error == "invalid_client":
        return "invalid_client"
    if answer.status == 429:
        return "rate_limited"
    if answer.status >= 500:
        return "http_5xx"
    return "other"


def refresh_url(settings: Settings, provider: OAuthProvider, config: dict[str, Any]) -> str:
    return registry.oauth_quirks(provider.kind).refresh_token_url(provider, settings, config)


async def request_refresh(
    settings: Settings,
    provider: OAuthProvider,
    config: dict[str, Any],
    refresh_token: str,
    client_id: str,
    client_secret: str,
) -> RefreshAnswer:
    fields = {"grant_type": "refresh_token", "refresh_token": refresh_token, **provider.refresh_params}
    try:
        async with outbound_client(timeout=http_timeout(settings)) as client:
            answer = await post_token(
                client, provider, refresh_url(settings, provider, config), fields, client_id, client_secret
            )
    except httpx.TransportError:
        return RefreshAnswer(False, {}, "network")
    if answer.ok:
        return RefreshAnswer(True, answer.data, status=answer.status)
    return RefreshAnswer(False, answer.data, classify(provider, answer), answer.status, answer.retry_after)


def revoke_url(settings: Settings, provider: OAuthProvider, config: dict[str, Any]) -> str | None:
    return registry.oauth_quirks(provider.kind).revoke_url(provider, settings, config)


async def request_revoke(settings: Settings, url: str, token: str) -> int | None:
    """Best effort: the status code, or None when the provider could not be reached."""
    try:
        async with outbound_client(timeout=min(5.0, http_timeout(settings))) as client:
            response = await client.post(url, data={"token": token})
    except httpx.TransportError:
        return None
    return response.status_code
