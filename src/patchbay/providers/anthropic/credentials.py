"""The `anthropic` kind: an API key, with PostHog's checks and messages (workspace label, `force`),
proven by listing one model."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from patchbay.config import Settings
from patchbay.kit.errors import ProviderUnavailable, ProviderUnreachable, ValidationError
from patchbay.kit.provider_errors import Failure, UpstreamError
from patchbay.providers.anthropic.client import first_model
from patchbay.providers.base import BuiltCredentials
from patchbay.providers.credential_check import check_failed, has_blank_or_control

DEFAULT_ID_PREFIX = "workspace-"
LABEL_MAX_LENGTH = 100
KEY_MISSING = "An Anthropic API key must be provided"
KEY_BLANKS = "Anthropic API key must not contain whitespace or control characters"
LABEL_NOT_STRING = "Workspace label must be a string"
LABEL_TOO_LONG = f"Workspace label must be {LABEL_MAX_LENGTH} characters or fewer"
LABEL_PREFIX = f"Workspace label cannot start with '{DEFAULT_ID_PREFIX}'"
KEY_INVALID = "Invalid Anthropic API key"
UNREACHABLE = "Could not reach Anthropic to validate the API key. Check your network and try again."
KEY_PERMISSIONS = (
    "Anthropic API key is missing required permissions. Check the key's workspace and permissions in "
    "your Anthropic console."
)


class AnthropicConfig(BaseModel):
    """`config` of an `anthropic` integration: an API key, checked by listing one model, stored
    encrypted. The integration's id is the workspace label, or `workspace-<project id>`; an existing
    one is replaced only with `force`."""

    api_key: str = Field(description="An Anthropic API key (sk-ant-…). Never returned.", json_schema_extra={"writeOnly": True})
    workspace_label: str | None = Field(
        None, description=f"Names this key among the project's Anthropic keys (≤ {LABEL_MAX_LENGTH} characters)."
    )
    force: bool = Field(False, description="Replace an existing integration with the same label.")


# `{integration_id}` is filled in when the row is saved (the default id holds the project's id).
EXISTS_DETAIL = (
    "An integration with id '{integration_id}' already exists for this team. Choose a different "
    "workspace label, delete the existing integration and try again, or set 'force' to true to "
    "overwrite the existing integration."
)


def _label(config: dict[str, Any]) -> str | None:
    label = config.get("workspace_label")
    if label is None:
        return None
    if not isinstance(label, str):
        raise ValidationError(LABEL_NOT_STRING)
    label = label.strip()
    if not label:
        return None
    if len(label) > LABEL_MAX_LENGTH:
        raise ValidationError(LABEL_TOO_LONG)
    if label.startswith(DEFAULT_ID_PREFIX):
        raise ValidationError(LABEL_PREFIX)
    return label


async def check_key(settings: Settings, api_key: str) -> None:
    """PostHog's messages, with the contract's statuses: a refusal is 400, an outage 502/503."""
    try:
        await first_model(settings, api_key)
    except UpstreamError as exc:
        if exc.failure is Failure.PERMISSION:
            raise ValidationError(KEY_PERMISSIONS, attr="api_key") from None
        if exc.failure is Failure.UNREACHABLE:
            raise ProviderUnreachable(UNREACHABLE, attr="api_key") from None
        if exc.failure is Failure.UNAVAILABLE and exc.reason.startswith("http "):
            detail = f"Anthropic returned an error validating the API key (HTTP {exc.reason[5:]})."
            if exc.retryable:  # 5xx: theirs, not the key's
                raise ProviderUnavailable(detail, attr="api_key") from None
            raise ValidationError(detail, attr="api_key") from None
        raise check_failed("Anthropic", exc, ValidationError(KEY_INVALID, attr="api_key")) from None


async def build_anthropic(settings: Settings, config: dict[str, Any]) -> BuiltCredentials:
    api_key = config.get("api_key")
    if not isinstance(api_key, str) or not api_key.strip():
        raise ValidationError(KEY_MISSING)
    api_key = api_key.strip()
    if has_blank_or_control(api_key):
        raise ValidationError(KEY_BLANKS)
    label = _label(config)
    force = bool(config.get("force", False))
    await check_key(settings, api_key)
    return BuiltCredentials(
        integration_id=label,
        config={"workspace_label": label} if label else {},
        sensitive_config={"api_key": api_key},
        scoped_id=None if label else _default_id,
        refuse_existing=None if force else EXISTS_DETAIL,
        refuse_existing_attr="config",
    )


def _default_id(project_id: int) -> str:
    return f"{DEFAULT_ID_PREFIX}{project_id}"


class AnthropicCredentials:
    config_model = AnthropicConfig

    async def build(self, settings: Settings, config: dict[str, Any]) -> BuiltCredentials:
        return await build_anthropic(settings, config)
