"""The failure policy's pure parts: Retry-After parsing, retry rules, envelopes."""

from __future__ import annotations

import time

import pytest

from patchbay.kit.errors import ProviderRateLimited, ProviderUnavailable, ProviderUnreachable, ValidationError
from patchbay.kit.provider_errors import Failure, UpstreamError
from patchbay.kit.retry import read_with_retries
from patchbay.kit.retry_after import retry_after_seconds as retry_after_from
from patchbay.provider_resources.failures import marks_integration, to_api_error


def test_retry_after_sources() -> None:
    now = time.time()
    assert retry_after_from({"retry-after": "12"}) == 12
    assert retry_after_from({"retry-after": "0"}) == 1
    assert 29 <= retry_after_from({"x-ratelimit-reset": str(int(now) + 30)}) <= 31
    assert 9 <= retry_after_from({"x-ratelimit-requests-reset": str(int((now + 10) * 1000))}) <= 11
    assert retry_after_from({"x-ratelimit-reset": "5"}) == 5
    assert retry_after_from({}) == 60
    assert retry_after_from({"retry-after": "soon"}, default=9) == 9


async def test_retries_transient_failures_with_growing_backoff() -> None:
    attempts: list[float] = []

    async def flaky() -> str:
        attempts.append(time.monotonic())
        if len(attempts) < 3:
            raise UpstreamError("slack", Failure.UNAVAILABLE, "http 500")
        return "ok"

    assert await read_with_retries(flaky, backoff=0.05) == "ok"
    first_gap, second_gap = attempts[1] - attempts[0], attempts[2] - attempts[1]
    assert first_gap >= 0.03 and second_gap > first_gap


@pytest.mark.parametrize(
    "failure", [Failure.AUTH, Failure.PERMISSION, Failure.RATE_LIMITED, Failure.NOT_FOUND]
)
async def test_never_retries_answers_that_would_not_change(failure: Failure) -> None:
    calls = 0

    async def refused() -> None:
        nonlocal calls
        calls += 1
        raise UpstreamError("clickup", failure, "x", retry_after=5)

    with pytest.raises(UpstreamError):
        await read_with_retries(refused, backoff=0.001)
    assert calls == 1


async def test_gives_up_after_three_attempts() -> None:
    calls = 0

    async def down() -> None:
        nonlocal calls
        calls += 1
        raise UpstreamError("linear", Failure.UNREACHABLE, "timeout")

    with pytest.raises(UpstreamError):
        await read_with_retries(down, backoff=0.001)
    assert calls == 3


def test_envelopes() -> None:
    assert isinstance(to_api_error(UpstreamError("twilio", Failure.AUTH)), ValidationError)
    slack = to_api_error(UpstreamError("slack", Failure.AUTH))
    assert slack.status_code == 400 and slack.code == "slack_integration_inactive"
    limited = to_api_error(UpstreamError("clickup", Failure.RATE_LIMITED, retry_after=42))
    assert isinstance(limited, ProviderRateLimited) and limited.headers == {"Retry-After": "42"}
    assert to_api_error(UpstreamError("linear", Failure.UNAVAILABLE)).status_code == 502
    assert isinstance(to_api_error(UpstreamError("linear", Failure.UNAVAILABLE)), ProviderUnavailable)
    assert isinstance(to_api_error(UpstreamError("slack", Failure.UNREACHABLE)), ProviderUnreachable)
    assert marks_integration("clickup", Failure.AUTH) and not marks_integration("slack", Failure.AUTH)
    assert not marks_integration("clickup", Failure.PERMISSION)
