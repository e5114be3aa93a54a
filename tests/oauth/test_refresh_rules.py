"""PostHog's refresh rules as pure functions: half-life expiry, backoff, terminal state."""

from __future__ import annotations

import pytest

from patchbay.oauth.refresh import (
    BACKOFF_KEYS,
    access_token_expired,
    hard_expired,
    record_failure,
    record_success,
)
from patchbay.providers.catalog import OAUTH_PROVIDERS

NOW = 1_700_000_000.0
TOKENS = {"access_token": "a", "refresh_token": "r"}


def test_half_life_rule() -> None:
    config = {"expires_in": 1000, "refreshed_at": NOW}
    assert not access_token_expired("hubspot", config, TOKENS, NOW)
    assert not access_token_expired("hubspot", config, TOKENS, NOW + 1000 - 501)
    assert access_token_expired("hubspot", config, TOKENS, NOW + 1000 - 499)
    # No refresh token, no expires_in or no refreshed_at: never expired.
    assert not access_token_expired("hubspot", config, {"access_token": "a"}, NOW + 10_000)
    assert not access_token_expired("hubspot", {"refreshed_at": NOW}, TOKENS, NOW + 10_000)
    assert not access_token_expired("hubspot", {"expires_in": 1000}, TOKENS, NOW + 10_000)


def test_salesforce_assumes_one_hour() -> None:
    config = {"refreshed_at": NOW}
    assert not access_token_expired("salesforce", config, TOKENS, NOW + 29 * 60)
    assert access_token_expired("salesforce", config, TOKENS, NOW + 31 * 60)
    assert not access_token_expired("linear", config, TOKENS, NOW + 10 * 3600)


def test_hard_expiry_is_the_real_lifetime() -> None:
    config = {"expires_in": 1000, "refreshed_at": NOW}
    assert not hard_expired("hubspot", config, NOW + 600)
    assert hard_expired("hubspot", config, NOW + 1000)


def test_backoff_doubles_and_caps() -> None:
    config: dict[str, object] = {}
    waits = []
    for _ in range(7):
        config = record_failure(config, "http_5xx", NOW)
        waits.append(int(config["refresh_next_attempt_at"]) - int(NOW))  # type: ignore[call-overload]
    assert waits == [120, 240, 480, 960, 1920, 3600, 3600]
    assert config["refresh_failure_count"] == 7
    assert "refresh_terminal" not in config


def test_fifth_invalid_grant_in_a_row_is_terminal() -> None:
    config: dict[str, object] = {}
    for _ in range(4):
        config = record_failure(config, "invalid_grant", NOW)
    assert not config.get("refresh_terminal")
    config = record_failure(config, "invalid_grant", NOW)
    assert config["refresh_terminal"] is True
    # An already-terminal row is not counted again.
    again = record_failure(config, "invalid_grant", NOW)
    assert again["refresh_invalid_grant_count"] == 5


def test_other_failures_reset_the_streak_and_invalid_client_is_never_terminal() -> None:
    config: dict[str, object] = {}
    for _ in range(4):
        config = record_failure(config, "invalid_grant", NOW)
    config = record_failure(config, "http_5xx", NOW)
    assert "refresh_invalid_grant_count" not in config
    config = record_failure(config, "invalid_grant", NOW)
    assert not config.get("refresh_terminal") and config["refresh_invalid_grant_count"] == 1
    clients: dict[str, object] = {}
    for _ in range(10):
        clients = record_failure(clients, "invalid_client", NOW)
    assert not clients.get("refresh_terminal")


def test_unreadable_secret_is_terminal_at_once() -> None:
    assert record_failure({}, "unreadable", NOW)["refresh_terminal"] is True


def test_success_clears_backoff_and_rotates() -> None:
    config = {"expires_in": 10, "refreshed_at": 1, "refresh_failure_count": 3, "refresh_invalid_grant_count": 2,
              "refresh_next_attempt_at": 5, "refresh_terminal": False, "hub_id": 7}  # fmt: skip
    provider = OAUTH_PROVIDERS["hubspot"]
    new_config, new_secrets = record_success(
        provider, config, TOKENS, {"access_token": "a2", "expires_in": 1800}, NOW
    )
    assert not set(BACKOFF_KEYS) & set(new_config)
    assert new_config == {"expires_in": 1800, "refreshed_at": int(NOW), "hub_id": 7}
    assert new_secrets == {"access_token": "a2", "refresh_token": "r"}
    _, rotated = record_success(provider, config, TOKENS, {"access_token": "a3", "refresh_token": "r2"}, NOW)
    assert rotated["refresh_token"] == "r2"


@pytest.mark.parametrize(("kind", "expected"), [("salesforce", 3600), ("stripe", 3600), ("hubspot", None)])
def test_missing_expires_in_after_refresh(kind: str, expected: int | None) -> None:
    new_config, _ = record_success(OAUTH_PROVIDERS[kind], {}, TOKENS, {"access_token": "x"}, NOW)
    assert new_config["expires_in"] == expected


@pytest.mark.parametrize(
    ("kind", "status", "body", "expected"),
    [
        ("linear", 400, {"error": "invalid_grant"}, "invalid_grant"),
        ("linear", 401, {"error": "invalid_client"}, "invalid_client"),
        ("linear", 503, "<html>down</html>", "http_5xx"),
        ("linear", 429, {"error": "slow down"}, "rate_limited"),
        ("linear", 400, {"error": "weird"}, "other"),
        ("reddit-ads", 400, {"error": 400}, "invalid_grant"),
        ("linear", 400, {"error": 400}, "other"),
        ("hubspot", 400, {"status": "BAD_HUB"}, "invalid_grant"),
        ("hubspot", 500, {"status": "BAD_HUB"}, "http_5xx"),
    ],
)
def test_failure_classification(kind: str, status: int, body: object, expected: str) -> None:
    from patchbay.oauth.token_endpoint import TokenAnswer
    from patchbay.oauth.token_requests import classify

    assert classify(OAUTH_PROVIDERS[kind], TokenAnswer(status, body)) == expected
