"""The failure taxonomy of a connection's health (kit.provider_errors): transient failures are
refresh_failed and never overrule a permanent verdict; permanent ones are reauthorization_required."""

from __future__ import annotations

import pytest

from patchbay.kit.provider_errors import (
    PERMANENT,
    REAUTHORIZATION_REQUIRED,
    REFRESH_FAILED,
    TRANSIENT,
    Failure,
    health_after,
    is_transient,
    refresh_failure,
)


def test_every_failure_is_in_exactly_one_class() -> None:
    assert set(Failure) == TRANSIENT | PERMANENT and not TRANSIENT & PERMANENT


@pytest.mark.parametrize("failure", sorted(TRANSIENT, key=lambda f: f.value))
def test_transient_failures(failure: Failure) -> None:
    assert is_transient(failure)
    assert health_after(failure, "healthy") == REFRESH_FAILED
    assert health_after(failure, "unknown") == REFRESH_FAILED
    assert health_after(failure, REAUTHORIZATION_REQUIRED) == REAUTHORIZATION_REQUIRED


@pytest.mark.parametrize("failure", sorted(PERMANENT, key=lambda f: f.value))
def test_permanent_failures(failure: Failure) -> None:
    assert not is_transient(failure)
    assert health_after(failure, "healthy") == REAUTHORIZATION_REQUIRED
    assert health_after(failure, REFRESH_FAILED) == REAUTHORIZATION_REQUIRED


@pytest.mark.parametrize(
    ("code", "failure"),
    [
        ("invalid_grant", Failure.AUTH),
        ("unreadable", Failure.AUTH),
        ("http_5xx", Failure.UNAVAILABLE),
        ("network", Failure.UNREACHABLE),
        ("rate_limited", Failure.RATE_LIMITED),
        ("invalid_client", Failure.UNAVAILABLE),
        ("other", Failure.UNAVAILABLE),
        ("something new", Failure.UNAVAILABLE),
    ],
)
def test_refresher_codes(code: str, failure: Failure) -> None:
    assert refresh_failure(code) is failure
