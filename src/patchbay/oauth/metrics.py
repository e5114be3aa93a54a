"""Prometheus metrics of token refreshes (served by /metrics with the rest)."""

from __future__ import annotations

from prometheus_client import Counter

# result: "success", or the refresher's failure code (invalid_grant, invalid_client, http_5xx,
# rate_limited, network, other, unreadable): a short, closed list.
TOKEN_REFRESHES = Counter(
    "patchbay_token_refresh_total",
    "OAuth token refreshes by kind and result",
    ["kind", "result"],
)


def count_refresh(kind: str, result: str) -> None:
    TOKEN_REFRESHES.labels(kind, result).inc()
