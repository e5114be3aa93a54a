"""One upstream-failure policy for every provider Patchbay reads resources from.

Provider clients classify what went wrong into an `UpstreamError` (never a bare exception, never a
secret in its text); `to_api_error` turns it into the envelope the caller sees:

| failure        | answer                                                                  |
|----------------|-------------------------------------------------------------------------|
| AUTH           | 400, actionable "reconnect" message (Slack: code slack_integration_inactive) |
| PERMISSION     | 400, "missing permission" message                                       |
| NOT_FOUND      | 400 on the parameter that named the missing thing (services decide)     |
| RATE_LIMITED   | 429 with the provider's Retry-After                                     |
| UNAVAILABLE    | 502 (5xx, malformed or unexpected answer)                               |
| UNREACHABLE    | 503 (timeout, connection refused/reset)                                 |

`read_with_retries` retries idempotent reads on UNAVAILABLE/UNREACHABLE only, a bounded number of
times with exponential backoff; auth, permission and rate-limit answers are never retried.
"""

from __future__ import annotations

import asyncio
import email.utils
import enum
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

import httpx
import orjson

from patchbay.kit.errors import (
    APIError,
    ProviderRateLimited,
    ProviderUnavailable,
    ProviderUnreachable,
    ValidationError,
)

logger = logging.getLogger("patchbay.provider_resources")

T = TypeVar("T")

PROVIDER_NAMES = {"slack": "Slack", "clickup": "ClickUp", "linear": "Linear", "twilio": "Twilio"}

# Retries for idempotent reads: attempts in total, first backoff (doubles), cap per sleep.
READ_ATTEMPTS = 3
BACKOFF_SECONDS = 0.2
BACKOFF_CAP_SECONDS = 2.0
DEFAULT_RETRY_AFTER = 60

# PostHog's texts (posthog/api/integration.py), so clients matching on them keep working.
SLACK_INACTIVE_DETAIL = (
    "Your Slack connection is no longer active. Reconnect Slack to load channels and pick a destination."
)
SLACK_MISSING_SCOPE_DETAIL = (
    "Your Slack connection is missing the permission Patchbay needs to {action}. Reconnect Slack to grant it."
)
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


def provider_name(kind: str) -> str:
    return PROVIDER_NAMES.get(kind, kind.title())


def marks_integration(kind: str, failure: Failure) -> bool:
    """Whether this failure sets `errors = TOKEN_REFRESH_FAILED` on the integration. PostHog marks a
    ClickUp row whose token the provider refuses; Linear's OAuth tokens behave the same way, so they
    are marked too. Slack and Twilio rows are never marked (PostHog answers without marking)."""
    return failure is Failure.AUTH and kind in {"clickup", "linear"}


def to_api_error(error: UpstreamError, *, action: str = "read this resource") -> APIError:
    """The envelope for a classified failure. `action` completes Slack's missing-scope message
    ("list channels", "list workspace members")."""
    name = provider_name(error.provider)
    slack = error.provider == "slack"
    if error.failure is Failure.AUTH:
        if slack:
            # PostHog raises a bare APIException here: status 400, type server_error.
            return APIError(SLACK_INACTIVE_DETAIL, code="slack_integration_inactive", status_code=400)
        return ValidationError(AUTH_INVALID_DETAIL)
    if error.failure is Failure.PERMISSION:
        if slack:
            return APIError(
                SLACK_MISSING_SCOPE_DETAIL.format(action=action),
                code="slack_integration_inactive",
                status_code=400,
            )
        return ValidationError(PERMISSION_DETAIL)
    if error.failure is Failure.RATE_LIMITED:
        return ProviderRateLimited(name, error.retry_after)
    if error.failure is Failure.UNREACHABLE:
        return ProviderUnreachable(f"{name} did not respond in time. Please try again later.")
    if error.failure is Failure.NOT_FOUND:
        return ValidationError(f"{name} could not find the requested resource.")
    return ProviderUnavailable(f"{name} answered with an error. Please try again later.")


async def read_with_retries(
    call: Callable[[], Awaitable[T]], *, attempts: int | None = None, backoff: float | None = None
) -> T:
    """Run an idempotent read; retry transient failures (5xx, malformed, timeout) with backoff."""
    attempts = attempts if attempts is not None else READ_ATTEMPTS
    backoff = backoff if backoff is not None else BACKOFF_SECONDS
    attempt = 0
    while True:
        attempt += 1
        try:
            return await call()
        except UpstreamError as exc:
            if not exc.retryable or attempt >= attempts:
                raise
            delay = min(BACKOFF_CAP_SECONDS, backoff * (2 ** (attempt - 1)))
            delay *= 0.75 + random.random() / 2  # jitter: concurrent readers do not retry in step
            logger.info(
                "provider read retry",
                extra={"provider": exc.provider, "reason": exc.reason, "attempt": attempt},
            )
            await asyncio.sleep(delay)


# --- helpers shared by the httpx-based clients ------------------------------------------------


def retry_after_from(headers: Mapping[str, str], default: int = DEFAULT_RETRY_AFTER) -> int:
    """Seconds to wait, from Retry-After (seconds or HTTP date), X-RateLimit-Reset (Unix seconds,
    ClickUp/GitHub) or X-RateLimit-Requests-Reset (Unix milliseconds, Linear)."""
    now = time.time()
    raw = headers.get("retry-after")
    if raw:
        raw = raw.strip()
        try:
            return max(1, int(float(raw)))
        except ValueError:
            try:
                parsed = email.utils.parsedate_to_datetime(raw)
            except (TypeError, ValueError):
                parsed = None
            if parsed is not None:
                return max(1, int(parsed.timestamp() - now + 0.999))
    for name, scale in (("x-ratelimit-reset", 1.0), ("x-ratelimit-requests-reset", 1000.0)):
        raw = headers.get(name)
        if not raw:
            continue
        try:
            value = float(raw) / scale
        except ValueError:
            continue
        # A small number is already a delay in seconds; a large one is an epoch timestamp.
        wait = value - now if value > 1_000_000_000 else value
        return max(1, int(wait + 0.999))
    return default


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
            provider, Failure.RATE_LIMITED, f"http {status}", retry_after=retry_after_from(response.headers)
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
