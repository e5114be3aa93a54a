"""Prometheus metrics of webhook delivery (served by /metrics with the rest)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

DELIVERIES = Counter(
    "patchbay_webhook_deliveries_total",
    "Webhook delivery attempts by outcome (succeeded, retry, failed)",
    ["result"],
)
ATTEMPT_SECONDS = Histogram(
    "patchbay_webhook_delivery_duration_seconds",
    "Time one delivery attempt took, from claim to the receiver's answer",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
LAG_SECONDS = Histogram(
    "patchbay_webhook_delivery_lag_seconds",
    "Time from an event's commit to its successful delivery",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0, 300.0, 3600.0, 86400.0),
)
# Every worker reads the same number from the database; across processes the largest recent one.
QUEUE_DEPTH = Gauge(
    "patchbay_webhook_queue_depth",
    "Webhook deliveries pending (due now or waiting for a retry)",
    multiprocess_mode="livemax",
)
