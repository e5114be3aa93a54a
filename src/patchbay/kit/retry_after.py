"""The one reading of a provider's "wait before trying again": Retry-After and the rate-limit reset
headers providers use instead. Kept apart from kit/http.py (the outbound client and its address
guard) because it decides no one's access."""

from __future__ import annotations

import email.utils
import time
from collections.abc import Mapping

import httpx

DEFAULT_RETRY_AFTER = 60


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
