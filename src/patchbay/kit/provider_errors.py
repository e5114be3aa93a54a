"""The one provider error model. Provider clients classify what went wrong into an `UpstreamError`
(never a bare exception, never a secret in its text); `to_api_error` turns it into the envelope:

| failure        | answer                                                                  |
|----------------|-------------------------------------------------------------------------|
| AUTH           | 400, actionable "reconnect" message                                     |
| PERMISSION     | 400, "missing permission" message                                       |
| NOT_FOUND      | 400 (services may name the parameter that named the missing thing)      |
| RATE_LIMITED   | 429 with the provider's Retry-After                                     |
| UNAVAILABLE    | 502 (5xx, malformed or unexpected answer)                               |
| UNREACHABLE    | 503 (timeout, connection refused/reset)                                 |

A provider can answer some failures in its own words (Slack does): see `providers.base`.
"""

from __future__ import annotations

import enum
from typing import Any

import httpx
import orjson

from patchbay.kit.errors import (
    APIError,
    ProviderRateLimited,
    ProviderUnavailable,
    ProviderUnreachable,
    ValidationError,
)
from patchbay.kit.http import retry_after_seconds

AUTH_INVALID_DETAIL = (
    "This integration's authentication is no longer valid. "
    "Please reconnect or disconnect this integration and connect a different account."
)
PERMISSION_DETAIL = (
    "This integration does not have permission to access this resource. "
    "Please check the account permissions on the provider side."
)


class Failure(enum.Enum):
    AUTH = "auth"
    PERMISSION = "permission"
    NOT_FOUND = "not_found"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"
    UNREACHABLE = "unreachable"


class UpstreamError(Exception):
    """A classified provider failure. `reason` is safe to log: a provider error code or a status,
    never a token or a response body that could echo one."""

    def __init__(
        self,
        provider: str,
        failure: Failure,
        reason: str = "",
        *,
        retry_after: int | None = None,
        provider_code: str | None = None,
        retryable: bool | None = None,
    ) -> None:
        self.provider = provider
        self.failure = failure
        self.reason = reason
        self.retry_after = retry_after
        self.provider_code = provider_code
        self.retryable = (
            retryable if retryable is not None else failure in {Failure.UNAVAILABLE, Failure.UNREACHABLE}
        )
        super().__init__(f"{provider}: {failure.value} ({reason})")


def to_api_error(error: UpstreamError, name: str) -> APIError:
    """The generic envelope of a classified failure; `name` is the provider as users know it."""
    if error.failure is Failure.AUTH:
        return ValidationError(AUTH_INVALID_DETAIL)
    if error.failure is Failure.PERMISSION:
        return ValidationError(PERMISSION_DETAIL)
    if error.failure is Failure.RATE_LIMITED:
        return ProviderRateLimited(name, error.retry_after)
    if error.failure is Failure.UNREACHABLE:
        return ProviderUnreachable(f"{name} did not respond in time. Please try again later.")
    if error.failure is Failure.NOT_FOUND:
        return ValidationError(f"{name} could not find the requested resource.")
    return ProviderUnavailable(f"{name} answered with an error. Please try again later.")


# --- helpers shared by the httpx-based clients ------------------------------------------------
def classify_status(provider: str, response: httpx.Response) -> UpstreamError | None:
    """The generic HTTP mapping; None for 2xx."""
    status = response.status_code
    if 200 <= status < 300:
        return None
    if status == 401:
        return UpstreamError(provider, Failure.AUTH, f"http {status}")
    if status == 403:
        return UpstreamError(provider, Failure.PERMISSION, f"http {status}")
    if status == 404:
        return UpstreamError(provider, Failure.NOT_FOUND, f"http {status}")
    if status == 429:
        return UpstreamError(
            provider, Failure.RATE_LIMITED, f"http {status}", retry_after=retry_after_seconds(response)
        )
    if status >= 500:
        return UpstreamError(provider, Failure.UNAVAILABLE, f"http {status}")
    return UpstreamError(provider, Failure.UNAVAILABLE, f"http {status}", retryable=False)


async def send(
    client: httpx.AsyncClient, provider: str, method: str, url: str, **kwargs: Any
) -> httpx.Response:
    """One HTTP exchange; transport failures become UNREACHABLE."""
    try:
        return await client.request(method, url, **kwargs)
    except httpx.TimeoutException:
        raise UpstreamError(provider, Failure.UNREACHABLE, "timeout") from None
    except httpx.TransportError as exc:
        raise UpstreamError(provider, Failure.UNREACHABLE, type(exc).__name__) from None


def json_body(provider: str, response: httpx.Response) -> Any:
    """The decoded body; a body that is not JSON is a malformed answer (UNAVAILABLE)."""
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        raise UpstreamError(provider, Failure.UNAVAILABLE, "malformed body") from None


def json_object(provider: str, response: httpx.Response, *keys: str) -> dict[str, Any]:
    """A JSON object holding every key in `keys`; anything else is malformed."""
    body = json_body(provider, response)
    if not isinstance(body, dict) or any(key not in body for key in keys):
        raise UpstreamError(provider, Failure.UNAVAILABLE, "unexpected body shape")
    return body
