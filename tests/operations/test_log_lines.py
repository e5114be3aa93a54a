"""The access log's cheap parts: the timestamp text kept per second, the connect token redacted, the
request id taken from the last X-Request-ID header."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from patchbay.operations.logging import JSONFormatter
from patchbay.operations.middleware import _incoming_request_id, _new_request_id, loggable_path

EDGES = [0.0, 0.0000004, 0.0004999, 0.0005, 0.9994999, 0.9995, 0.999999, 0.9999995, 0.9999996]


def _iso(created: float) -> str:
    return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def test_the_timestamp_is_datetimes_iso_text_to_the_millisecond() -> None:
    formatter = JSONFormatter()
    rng = random.Random(19)
    seconds = [rng.randint(0, 2**31) for _ in range(300)] + [1_764_900_000]
    samples = [s + edge for s in seconds for edge in EDGES] + [rng.uniform(0, 2e9) for _ in range(3000)]
    rng.shuffle(samples)
    assert [formatter.timestamp(c) for c in samples] == [_iso(c) for c in samples]


def test_the_same_second_twice_and_then_the_next() -> None:
    formatter = JSONFormatter()
    assert formatter.timestamp(100.25) == "1970-01-01T00:01:40.250Z"
    assert formatter.timestamp(100.5) == "1970-01-01T00:01:40.500Z"
    assert formatter.timestamp(101.0) == "1970-01-01T00:01:41.000Z"


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        ("/connect/pcs_SECRET-token/kinds", "/connect/pcs_[redacted]/kinds"),
        ("/api/connect/pcs_abc", "/api/connect/pcs_[redacted]"),
        ("/api/projects/1/integrations", "/api/projects/1/integrations"),
        ("/connect/other", "/connect/other"),
    ],
)
def test_connect_tokens_never_reach_a_log_line(path: str, logged: str) -> None:
    assert loggable_path(path) == logged


def test_the_request_id_is_the_last_header_and_a_new_one_is_16_hex() -> None:
    headers = [(b"x-request-id", b"first"), (b"host", b"h"), (b"x-request-id", b"second")]
    assert _incoming_request_id({"headers": headers}) == "second"
    assert _incoming_request_id({"headers": []}) == ""
    made = {_new_request_id() for _ in range(1000)}
    assert len(made) == 1000 and all(len(m) == 16 and int(m, 16) >= 0 for m in made)
