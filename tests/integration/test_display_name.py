from __future__ import annotations

import pytest

from patchbay.integration.display_name import display_name
from patchbay.kit.dotted import dot_get


def test_dot_get_prefers_flat_dotted_keys() -> None:
    assert dot_get({"user.email": "flat@x", "user": {"email": "nested@x"}}, "user.email") == "flat@x"
    assert dot_get({"user": {"email": "nested@x"}}, "user.email") == "nested@x"
    assert dot_get({"user": "str"}, "user.email", "dflt") == "dflt"


@pytest.mark.parametrize(
    ("kind", "integration_id", "config", "expected"),
    [
        ("slack", "T1", {"team": {"id": "T1", "name": "Acme"}}, "Acme"),
        ("clickup", "42", {"user.email": "a@b.c"}, "a@b.c"),
        ("hubspot", "7", {}, "7"),
        ("pinterest-ads", "p1", {"username": "pin"}, "pin"),
        ("pinterest-ads", "p1", {"business_name": "Biz", "username": "pin"}, "Biz"),
        ("tiktok-ads", "1,2", {"user_display_name": "Tok"}, "Tok"),
        ("tiktok-ads", "1,2", {}, "1,2"),
        ("reddit-ads", "u1", {"data.reddit_username": "redditor"}, "redditor"),
        ("databricks", None, {}, "unknown ID"),
        ("github", "9", {"account": {"name": "octo"}}, "octo"),
        ("aws-s3", "prod-aws", {"aws_account_id": "123456789012"}, "prod-aws (AWS account 123456789012)"),
        (
            "s3-compatible",
            "r2",
            {"name": "my-r2", "endpoint_url": "https://r2"},
            "my-r2 (access key, https://r2)",
        ),
        (
            "snowflake",
            "sf",
            {"name": "prod-snowflake", "account": "myorg-myaccount"},
            "prod-snowflake (account: myorg-myaccount, password auth)",
        ),
        ("email", "a@x.com", {"email": "a@x.com"}, "a@x.com"),
        ("twilio", "AC1", {"account_sid": "AC1"}, "ID: AC1"),
        ("vercel", None, {}, "ID: None"),
    ],
)
def test_display_name_rules(kind: str, integration_id: str | None, config: dict, expected: str) -> None:
    assert display_name(kind, integration_id, config) == expected
