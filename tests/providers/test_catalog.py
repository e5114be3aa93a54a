"""The provider registry: every PostHog OAuth kind described, hosts configurable per kind."""

from __future__ import annotations

import pytest

from patchbay.config import Settings
from patchbay.providers import salesforce
from patchbay.providers.catalog import OAUTH_PROVIDERS, rebase
from patchbay.providers.oauth_helpers import jwt_claims

POSTHOG_KINDS = {
    "slack", "clickup", "linear", "hubspot", "salesforce", "pardot", "google-ads", "google-analytics",
    "google-sheets", "google-search-console", "google-calendar", "youtube-analytics", "intercom", "jira",
    "snapchat", "linkedin-ads", "bing-ads", "reddit-ads", "pinterest-ads", "meta-ads", "instagram", "stripe",
    "resend", "tiktok-ads",
}  # fmt: skip


def settings(**overrides: str) -> Settings:
    return Settings(_env_file=None, kind_overrides=overrides)  # type: ignore[call-arg]


def test_every_kind_is_described() -> None:
    assert POSTHOG_KINDS <= set(OAUTH_PROVIDERS)
    for provider in OAUTH_PROVIDERS.values():
        assert provider.authorize_url.startswith("https://")
        assert provider.token_url.startswith("https://")
        assert provider.id_path and provider.name_path


def test_default_urls_are_the_providers() -> None:
    s = settings()
    assert OAUTH_PROVIDERS["slack"].resolve_token_url(s) == "https://slack.com/api/oauth.v2.access"
    assert OAUTH_PROVIDERS["clickup"].resolve_token_url(s) == "https://api.clickup.com/api/v2/oauth/token"
    assert OAUTH_PROVIDERS["linear"].resolve_token_url(s) == "https://api.linear.app/oauth/token"
    assert (
        OAUTH_PROVIDERS["google-ads"].resolve_authorize_url(s)
        == "https://accounts.google.com/o/oauth2/v2/auth"
    )


def test_api_url_moves_every_server_endpoint() -> None:
    s = settings(
        PATCHBAY_SLACK_API_URL="http://sim/slack/api/",
        PATCHBAY_CLICKUP_API_URL="http://sim/clickup/api",
        PATCHBAY_LINEAR_API_URL="http://sim/linear",
        PATCHBAY_GOOGLE_SHEETS_API_URL="http://sim/google",
        PATCHBAY_HUBSPOT_AUTHORIZE_URL="http://sim/hubspot/authorize",
    )
    slack, clickup, linear, google = (
        OAUTH_PROVIDERS[k] for k in ("slack", "clickup", "linear", "google-sheets")
    )
    assert slack.resolve_token_url(s) == "http://sim/slack/api/oauth.v2.access"
    assert clickup.resolve_token_url(s) == "http://sim/clickup/api/v2/oauth/token"
    assert clickup.resolve(s, clickup.token_info_url or "") == "http://sim/clickup/api/v2/user"
    assert linear.resolve(s, linear.token_info_url or "") == "http://sim/linear/graphql"
    # Two Google hosts: each path kept, rebased on the API URL.
    assert google.resolve_token_url(s) == "http://sim/google/token"
    assert google.resolve(s, google.token_info_url or "") == "http://sim/google/v1/userinfo"
    assert OAUTH_PROVIDERS["hubspot"].resolve_authorize_url(s) == "http://sim/hubspot/authorize"
    # Other kinds are untouched.
    assert OAUTH_PROVIDERS["google-ads"].resolve_token_url(s) == "https://oauth2.googleapis.com/token"


def test_rebase_keeps_query() -> None:
    assert rebase(
        "https://graph.facebook.com/v25.0/me?fields=id,name", "https://graph.facebook.com", "http://x/meta"
    ) == ("http://x/meta/v25.0/me?fields=id,name")


@pytest.mark.parametrize(
    ("url", "trusted"),
    [
        ("https://acme.my.salesforce.com", "https://acme.my.salesforce.com"),
        ("https://acme--dev.sandbox.my.salesforce.com", "https://acme--dev.sandbox.my.salesforce.com"),
        ("https://evil.example.com", None),
        ("https://acme.my.salesforce.com.evil.com", None),
        ("https://evilsalesforce.com", None),
        ("http://acme.my.salesforce.com", None),
        ("https://user@acme.my.salesforce.com", None),
        ("https://acme.my.salesforce.com:8443", None),
        ("not a url", None),
        ("", None),
        (None, None),
    ],
)
def test_salesforce_instance_trust(url: str | None, trusted: str | None) -> None:
    assert salesforce.trusted_instance(url) == trusted


def test_salesforce_refresh_url_falls_back_to_login_host() -> None:
    provider = OAUTH_PROVIDERS["salesforce"]
    s = settings()
    assert salesforce.refresh_token_url(provider, s, {"instance_url": "https://acme.my.salesforce.com"}) == (
        "https://acme.my.salesforce.com/services/oauth2/token"
    )
    assert salesforce.refresh_token_url(provider, s, {"instance_url": "https://attacker.net"}) == (
        "https://login.salesforce.com/services/oauth2/token"
    )


def test_jwt_claims_reads_payload_and_tolerates_garbage() -> None:
    import base64

    import orjson

    payload = base64.urlsafe_b64encode(orjson.dumps({"sub": "42"})).decode().rstrip("=")
    assert jwt_claims(f"h.{payload}.s") == {"sub": "42"}
    assert jwt_claims("not-a-jwt") == {}
    assert jwt_claims("a.!!!.c") == {}
    assert jwt_claims(None) == {}
