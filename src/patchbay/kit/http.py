"""The one factory for outbound HTTP clients (timeouts always set, redirects never followed) and the
one reading of a provider's "wait this long" headers."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping

import httpx

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
DEFAULT_RETRY_AFTER = 60


def outbound_client(
    *, timeout: float | httpx.Timeout | None = None, base_url: str = "", headers: dict[str, str] | None = None
) -> httpx.AsyncClient:
    """Operator-configured provider URLs only. Hosts typed in by users go through
    `patchbay.kit.dns.ensure_public_host` first (the address guard)."""
    return httpx.AsyncClient(
        base_url=base_url,
        timeout=timeout if timeout is not None else DEFAULT_TIMEOUT,
        follow_redirects=False,
        headers={"User-Agent": "Patchbay/0.1", **(headers or {})},
    )


def retry_after_seconds(
    source: httpx.Response | Mapping[str, str], default: int = DEFAULT_RETRY_AFTER
) -> int:
    """Seconds to wait, from Retry-After (seconds or HTTP date), X-RateLimit-Reset-After (seconds),
    X-RateLimit-Reset (Unix seconds, ClickUp/GitHub) or X-RateLimit-Requests-Reset (Unix
    milliseconds, Linear); `default` when none of them says. Never less than one second."""
    headers = source.headers if isinstance(source, httpx.Response) else source
    lowered = {k.lower(): v for k, v in headers.items()}
    now = time.time()
    raw = lowered.get("retry-after")
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
    raw = lowered.get("x-ratelimit-reset-after")
    if raw:
        try:
            return max(1, int(float(raw)))
        except ValueError:
            pass
    for name, scale in (("x-ratelimit-reset", 1.0), ("x-ratelimit-requests-reset", 1000.0)):
        raw = lowered.get(name)
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
