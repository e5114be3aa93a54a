"""The `posthog` kind: a PostHog instance (PostHog Cloud US or EU, or self-hosted) and a personal
API key, proven by reading the key's user. PostHog's own `posthog` kind is an OAuth connection to its
cloud regions; this one works with any instance, self-hosted ones included."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from patchbay.config import Settings
from patchbay.kit.errors import ValidationError
from patchbay.kit.provider_errors import Failure, UpstreamError
from patchbay.providers.base import BuiltCredentials
from patchbay.providers.credential_check import check_failed, has_blank_or_control
from patchbay.providers.posthog.client import BadHost, HostNotAllowed, check_host, current_user, instance

KEY_MISSING = "A PostHog personal API key must be provided"
KEY_NOT_STRING = "PostHog personal API key must be a string"
KEY_BLANKS = "PostHog personal API key must not contain whitespace or control characters"
HOST_NOT_STRING = "PostHog host must be a string"
KEY_REFUSED = "PostHog did not accept this personal API key. Check that it is correct and not revoked."
KEY_SCOPE = "This personal API key cannot read its user: give it the user:read scope."
USER_UNREADABLE = "PostHog answered without the key's user. Is this a PostHog instance?"


class PostHogConfig(BaseModel):
    """`config` of a `posthog` integration: an instance and a personal API key (scope `user:read`
    at least). The key is checked against `GET {host}/api/users/@me/` and stored encrypted; a host
    must resolve to public addresses (see the address guard)."""

    host: str | None = Field(
        None,
        description=(
            "The PostHog instance: https://us.posthog.com, https://eu.posthog.com or a self-hosted "
            "URL. Default: PATCHBAY_POSTHOG_API_URL (https://us.posthog.com)."
        ),
        examples=["https://eu.posthog.com"],
    )
    personal_api_key: str = Field(
        description="A personal API key (phx_…). Never returned.", json_schema_extra={"writeOnly": True}
    )


def _key(config: dict[str, Any]) -> str:
    key = config.get("personal_api_key")
    if key is None or key == "":
        raise ValidationError(KEY_MISSING, attr="personal_api_key")
    if not isinstance(key, str):
        raise ValidationError(KEY_NOT_STRING, attr="personal_api_key")
    if has_blank_or_control(key):
        raise ValidationError(KEY_BLANKS, attr="personal_api_key")
    return key


async def build_posthog(settings: Settings, config: dict[str, Any]) -> BuiltCredentials:
    key = _key(config)
    host = config.get("host")
    if host is not None and not isinstance(host, str):
        raise ValidationError(HOST_NOT_STRING, attr="host")
    try:
        found = instance(settings, host or None)
        await check_host(settings, found)
        user = await current_user(settings, found, key)
    except BadHost as exc:
        raise ValidationError(str(exc), attr="host") from None
    except HostNotAllowed:
        raise ValidationError(
            f"PostHog integration error: could not validate host '{host}'", attr="host"
        ) from None
    except UpstreamError as exc:
        refused = KEY_SCOPE if exc.failure is Failure.PERMISSION else KEY_REFUSED
        raise check_failed("PostHog", exc, ValidationError(refused, attr="personal_api_key")) from None
    uuid, email = (user.get(name) if isinstance(user, dict) else None for name in ("uuid", "email"))
    if not isinstance(uuid, str) or not uuid:
        raise ValidationError(USER_UNREADABLE, attr="host")
    public: dict[str, Any] = {"host": found.base_url, "email": email if isinstance(email, str) else None}
    organization = user.get("organization")
    if isinstance(organization, dict) and isinstance(organization.get("name"), str):
        public["organization_name"] = organization["name"]
    region = found.region
    if region is not None:
        public["region"] = region
    # PostHog namespaces its cloud users by region ("EU:<uuid>"); a self-hosted user by its instance.
    integration_id = f"{region or found.base_url}:{uuid}"
    return BuiltCredentials(
        integration_id=integration_id, config=public, sensitive_config={"personal_api_key": key}
    )


class PostHogCredentials:
    config_model = PostHogConfig

    async def build(self, settings: Settings, config: dict[str, Any]) -> BuiltCredentials:
        return await build_posthog(settings, config)
