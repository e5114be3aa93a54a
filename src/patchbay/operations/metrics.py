"""Prometheus metrics: request counts and latencies by route and status."""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

REQUESTS = Counter("patchbay_requests_total", "HTTP requests served", ["method", "route", "status"])
LATENCY = Histogram(
    "patchbay_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)


# Label children by their values: `labels()` re-validates and re-keys them on every call.
_counters: dict[tuple[str, str, int], Any] = {}
_histograms: dict[tuple[str, str], Any] = {}


def record_request(method: str, route: str, status: int, seconds: float) -> None:
    counter = _counters.get((method, route, status))
    if counter is None:
        counter = _counters[(method, route, status)] = REQUESTS.labels(method, route, str(status))
    counter.inc()
    histogram = _histograms.get((method, route))
    if histogram is None:
        histogram = _histograms[(method, route)] = LATENCY.labels(method, route)
    histogram.observe(seconds)


def render() -> tuple[bytes, str]:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(), CONTENT_TYPE_LATEST
