"""The one retry/back-off policy for calls to providers: a bounded number of attempts, exponential
pauses with jitter, and only for failures that another attempt could change (outages, never
refusals or rate limits)."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from patchbay.kit.provider_errors import UpstreamError

log = logging.getLogger("patchbay.retry")

T = TypeVar("T")

# Attempts in total, first pause (doubles per attempt), cap per pause.
ATTEMPTS = 3
BACKOFF_SECONDS = 0.2
BACKOFF_CAP_SECONDS = 2.0


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = ATTEMPTS
    backoff: float = BACKOFF_SECONDS
    cap: float = BACKOFF_CAP_SECONDS

    def pause(self, attempt: int) -> float:
        """The pause after failed attempt number `attempt` (1-based), jittered so that concurrent
        callers do not retry in step."""
        delay = min(self.cap, self.backoff * (2 ** (attempt - 1)))
        return delay * (0.75 + random.random() / 2)


async def with_retries(call: Callable[[], Awaitable[T]], policy: RetryPolicy | None = None) -> T:
    """Run `call`; an `UpstreamError` marked retryable is tried again under `policy`."""
    policy = policy or RetryPolicy(backoff=BACKOFF_SECONDS)
    attempt = 0
    while True:
        attempt += 1
        try:
            return await call()
        except UpstreamError as exc:
            if not exc.retryable or attempt >= policy.attempts:
                raise
            log.info(
                "provider call retry", extra={"provider": exc.provider, "reason": exc.reason, "attempt": attempt}
            )
            await asyncio.sleep(policy.pause(attempt))


async def read_with_retries(
    call: Callable[[], Awaitable[T]], *, attempts: int | None = None, backoff: float | None = None
) -> T:
    """An idempotent read under the default policy (module constants read at call time)."""
    policy = RetryPolicy(
        attempts=attempts if attempts is not None else ATTEMPTS,
        backoff=backoff if backoff is not None else BACKOFF_SECONDS,
    )
    return await with_retries(call, policy)
