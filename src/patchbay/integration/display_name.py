"""PostHog's display_name rules for a project integration, kind by kind."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from patchbay.kit.dotted import dot_get
from patchbay.providers import registry
from patchbay.providers.base import OAuthQuirks
from patchbay.providers.catalog import OAuthProvider


def _id_or_unknown(integration_id: str | None) -> str:
    return integration_id or "unknown ID"


def _aws_detail(config: dict[str, Any], *, with_host: bool) -> str:
    if config.get("aws_role_arn"):
        return f"AWS role '{config['aws_role_arn']}'"
    if config.get("aws_account_id"):
        return f"AWS account {config['aws_account_id']}"
    if with_host and config.get("host"):
        return f"{config.get('user')}@{config['host']}"
    return "access key"


@lru_cache(maxsize=256)
def _oauth_kind(kind: str) -> tuple[OAuthProvider, OAuthQuirks] | None:
    """The catalogue entry and quirks of an OAuth kind, looked up once per kind (lists call
    display_name for every row)."""
    provider = registry.oauth_provider(kind)
    return (provider, registry.oauth_quirks(kind)) if provider is not None else None


def display_name(kind: str, integration_id: str | None, config: dict[str, Any]) -> str:
    oauth = _oauth_kind(kind)
    if oauth is not None:
        provider, quirks = oauth
        own = quirks.display_name(integration_id, config)
        return own if own is not None else str(dot_get(config, provider.name_path, integration_id))
    if kind in {"google-pubsub", "google-cloud-storage", "databricks", "gitlab"}:
        return _id_or_unknown(integration_id)
    if kind == "github":
        return str(dot_get(config, "account.name", integration_id))
    if kind == "aws-s3":
        return f"{_id_or_unknown(integration_id)} ({_aws_detail(config, with_host=False)})"
    if kind == "aws-redshift":
        return f"{_id_or_unknown(integration_id)} ({_aws_detail(config, with_host=True)})"
    if kind == "s3-compatible":
        name = config.get("name", integration_id)
        endpoint = config.get("endpoint_url")
        return f"{name} (access key, {endpoint})" if endpoint else f"{name} (access key)"
    if kind == "snowflake":
        auth = config.get("authentication_type") or "password"
        return f"{config.get('name', integration_id)} (account: {config.get('account')}, {auth} auth)"
    if kind == "email":
        return str(config.get("email", integration_id))
    if kind == "posthog":  # PostHog shows the connected user's email
        return str(config.get("email") or integration_id)
    if kind == "apns":
        return str(config.get("bundle_id", integration_id))
    return f"ID: {integration_id}"
