"""Refresh and revoke requests at the provider (no database: refresh.py and revoke.py decide)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from patchbay.config import Settings
from patchbay.kit.http import outbound_client
from patchbay.kit.provider_errors import Failure, UpstreamError
from patchbay.kit.retry import RetryPolicy, with_retries
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


# In-call retries of a refresh answered 5xx (short: a request may be waiting on it).
REFRESH_RETRY = RetryPolicy(attempts=2, backoff=0.2)


async def _request_with_retries(
    settings: Settings, provider: OAuthProvider, config: dict[str, Any], refresh_token: str, client_id: str,
    client_secret: str,
) -> RefreshAnswer:
    """One refresh, a 5xx answer retried under kit.retry's policy (the provider issued nothing, so
    the same refresh token is still good). A timeout is not retried here: the provider may have
    rotated the token before the answer was lost, and a second try would read as invalid_grant.
    The row's own back-off (record_failure) takes it from there."""

    async def attempt() -> RefreshAnswer:
        answer = await request_refresh(settings, provider, config, refresh_token, client_id, client_secret)
        if answer.failure == "http_5xx":
            raise _RetryableRefresh(answer)
        return answer

    try:
        return await with_retries(attempt, REFRESH_RETRY)
    except _RetryableRefresh as exc:
        return exc.answer


class _RetryableRefresh(UpstreamError):
    def __init__(self, answer: RefreshAnswer) -> None:
        super().__init__("oauth", Failure.UNAVAILABLE, f"http {answer.status}")
        self.answer = answer


async def refresh_with_fallback(
    settings: Settings, provider: OAuthProvider, config: dict[str, Any], refresh_token: str
) -> tuple[RefreshAnswer, bool]:
    """(answer, used the fallback client). A configured fallback client is tried when the primary fails."""
    client_id = settings.kind_setting(provider.kind, "CLIENT_ID") or ""
    client_secret = settings.kind_setting(provider.kind, "CLIENT_SECRET") or ""
    answer = await _request_with_retries(settings, provider, config, refresh_token, client_id, client_secret)
    if answer.ok:
        return answer, False
    fb_id = settings.kind_setting(provider.kind, "FALLBACK_CLIENT_ID")
    fb_secret = settings.kind_setting(provider.kind, "FALLBACK_CLIENT_SECRET")
    if fb_id and fb_secret:
        retry = await request_refresh(settings, provider, config, refresh_token, fb_id, fb_secret)
        if retry.ok:
            return retry, True
    return answer, False


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
