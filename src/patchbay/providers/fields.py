"""Reading the `config` of credential kinds with PostHog's messages (shared by the AWS, S3-compatible,
PostgreSQL and Redshift kinds, which word their checks the same way)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from patchbay.kit.errors import ValidationError


def required_text(config: Mapping[str, Any], key: str, friendly_name: str, kind: str) -> str:
    """A non-empty string, or PostHog's "<Friendly name> is required for <kind> integration"."""
    value = config.get(key)
    if isinstance(value, str) and value:
        return value
    raise ValidationError(f"{friendly_name} is required for {kind} integration")


def duplicate_name(name: str) -> str:
    """The detail of a create that meets a row of the same user-chosen name (PostHog's words)."""
    return f"An integration named '{name}' already exists"
