"""What the credential kinds share when they prove typed-in credentials with one provider call: the
call itself (classified by kit.provider_errors) and the envelope of a failed check, worded about the
check ("while we checked the credentials") with the provider's name as users know it."""

from __future__ import annotations

from typing import Any

import httpx

from patchbay.kit.errors import APIError, ProviderRateLimited, ProviderUnavailable, ProviderUnreachable
from patchbay.kit.provider_errors import Failure, UpstreamError, classify_status, json_body, send


async def fetch_json(
    client: httpx.AsyncClient, provider: str, method: str, url: str, **kwargs: Any
) -> Any:
    """One checking call (never retried: a create request waits on it); its JSON body, or the
    classified failure."""
    response = await send(client, provider, method, url, **kwargs)
    error = classify_status(provider, response)
    if error is not None:
        raise error
    return json_body(provider, response)


def check_failed(name: str, error: UpstreamError, refused: APIError) -> APIError:
    """The envelope of a failed check: `refused` (the kind's own 400) when the provider turned the
    credentials down (401, 403, 404, another 4xx), the shared answers for outages and rate limits."""
    if error.failure is Failure.UNREACHABLE:
        if error.reason == "timeout":
            return ProviderUnreachable(
                f"{name} did not respond in time while we checked the credentials. Please try again."
            )
        return ProviderUnreachable(
            f"{name} could not be reached while we checked the credentials. Please try again."
        )
    if error.failure is Failure.RATE_LIMITED:
        return ProviderRateLimited(name, error.retry_after)
    if error.failure is Failure.UNAVAILABLE and error.reason == "malformed body":
        return ProviderUnavailable(f"{name} sent an answer we could not read. Please try again later.")
    if error.failure is Failure.UNAVAILABLE and error.retryable:  # 5xx
        return ProviderUnavailable(
            f"{name} answered with an error while we checked the credentials. Please try again later."
        )
    return refused


def has_blank_or_control(value: str) -> bool:
    """Whitespace or control characters: a key pasted with a newline or a space in it."""
    return any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value)
