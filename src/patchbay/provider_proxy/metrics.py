"""Prometheus metrics of the proxy (served by /metrics with the rest)."""

from __future__ import annotations

from typing import Any

from prometheus_client import Counter, Histogram

REQUESTS = Counter(
    "patchbay_proxy_requests_total",
    "Proxy calls by integration kind and the class of the status the caller got (2xx ... 5xx)",
    ["kind", "status_class"],
)
DURATION = Histogram(
    "patchbay_proxy_duration_seconds",
    "Time from a proxy call's arrival to the provider's response headers (or Patchbay's error)",
    ["kind"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)

_counters: dict[tuple[str, str], Any] = {}
_histograms: dict[str, Any] = {}


def observe(kind: str, status: int, seconds: float) -> None:
    status_class = f"{status // 100}xx"
    counter = _counters.get((kind, status_class))
    if counter is None:
        counter = _counters[(kind, status_class)] = REQUESTS.labels(kind, status_class)
    counter.inc()
    histogram = _histograms.get(kind)
    if histogram is None:
        histogram = _histograms[kind] = DURATION.labels(kind)
    histogram.observe(seconds)
