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

The same model is the failure taxonomy of a connection's health (docs/health.md), shared by the
token refresher, resource lists, checks and the proxy: a *transient* failure (UNAVAILABLE,
UNREACHABLE, RATE_LIMITED: timeouts, connection errors, 5xx, 429) leaves the grant alone, is retried
with back-off and makes the health `refresh_failed`; a *permanent* one (AUTH, PERMISSION,
NOT_FOUND from a verification call: invalid_grant, a revoked token, refused credentials) makes it
`reauthorization_required`: only a person connecting again repairs it. `health_after` and
`refresh_failure` are the only places that decide this.
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
from patchbay.kit.retry_after import retry_after_seconds

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


# --- the failure taxonomy of a connection's health ---------------------------------------------
HEALTHY = "healthy"
UNKNOWN = "unknown"
REFRESH_FAILED = "refresh_failed"
REAUTHORIZATION_REQUIRED = "reauthorization_required"
HEALTH_STATUSES = (HEALTHY, UNKNOWN, REFRESH_FAILED, REAUTHORIZATION_REQUIRED)

TRANSIENT = frozenset({Failure.UNAVAILABLE, Failure.UNREACHABLE, Failure.RATE_LIMITED})
PERMANENT = frozenset({Failure.AUTH, Failure.PERMISSION, Failure.NOT_FOUND})

# The refresher's failure codes (oauth.token_requests.RefreshAnswer.failure, plus "unreadable"
# secrets and a "terminal" row) in the model. invalid_client and other 4xx answers say our client
# registration or the request is wrong, not that the user's grant is: transient for the grant,
# retried with back-off while an operator fixes the client.
_REFRESH_FAILURES = {
    "invalid_grant": Failure.AUTH,
    "unreadable": Failure.AUTH,
    "terminal": Failure.AUTH,
    "rate_limited": Failure.RATE_LIMITED,
    "network": Failure.UNREACHABLE,
    "http_5xx": Failure.UNAVAILABLE,
    "invalid_client": Failure.UNAVAILABLE,
    "other": Failure.UNAVAILABLE,
}


def refresh_failure(code: str) -> Failure:
    """The model's class of a refresher failure code (unknown codes are transient)."""
    return _REFRESH_FAILURES.get(code, Failure.UNAVAILABLE)


def is_transient(failure: Failure) -> bool:
    return failure in TRANSIENT


def health_after(failure: Failure, current: str) -> str:
    """The health status a failure leaves a connection in. A transient failure never overrules a
    permanent verdict: an outage says nothing about a grant the provider already refused."""
    if failure in PERMANENT:
        return REAUTHORIZATION_REQUIRED
    return REAUTHORIZATION_REQUIRED if current == REAUTHORIZATION_REQUIRED else REFRESH_FAILED


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
