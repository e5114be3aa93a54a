"""The one factory for outbound HTTP clients: timeouts always set, redirects never followed."""

from __future__ import annotations

import httpx

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


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


def retry_after_seconds(response: httpx.Response, default: int = 60) -> int:
    raw = response.headers.get("Retry-After") or response.headers.get("X-RateLimit-Reset-After")
    try:
        return max(1, int(float(raw))) if raw is not None else default
    except ValueError:
        return default
