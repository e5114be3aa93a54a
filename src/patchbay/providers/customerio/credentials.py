"""The three Customer.io kinds, stored as PostHog's messaging product stores them (secrets in
`sensitive_config`, no integration id, so PostHog shows "ID: None"):

- `customerio-app`: `{app_api_key, region}` -> secrets `{app_api_key}`, config `{region}`;
  checked by listing the workspaces the key reaches.
- `customerio-track`: `{site_id, api_key, region}` -> secrets `{site_id, api_key}`, config
  `{region}`; checked by asking the Track API for the account's region.
- `customerio-webhook`: `{webhook_signing_secret}` -> secrets `{webhook_signing_secret}`; a secret
  Customer.io signs its reporting webhooks with, which no API call can prove: only its form is checked.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from patchbay.config import Settings
from patchbay.kit.errors import ValidationError
from patchbay.kit.provider_errors import UpstreamError
from patchbay.providers.base import BuiltCredentials
from patchbay.providers.credential_check import check_failed, has_blank_or_control
from patchbay.providers.customerio.client import REGIONS, account_region, workspaces

APP_KEY_MISSING = "An App API key must be provided"
TRACK_MISSING = "Site ID and API key must be provided"
WEBHOOK_MISSING = "Webhook signing secret must be provided"
REGION_INVALID = "Region must be one of: us, eu"
APP_KEY_REFUSED = "Customer.io did not accept this App API key. Check the key and its region."
TRACK_REFUSED = "Customer.io did not accept this site ID and API key. Check them and their region."
NAME = "Customer.io"

_REGION_FIELD = Field("us", description="The account's data center: `us` or `eu`.")


class CustomerIOAppConfig(BaseModel):
    """`config` of a `customerio-app` integration: an App API key, checked by listing the
    workspaces it reaches; stored encrypted."""

    app_api_key: str = Field(description="An App API key. Never returned.", json_schema_extra={"writeOnly": True})
    region: str = _REGION_FIELD


class CustomerIOTrackConfig(BaseModel):
    """`config` of a `customerio-track` integration: a workspace's site ID and Track API key,
    checked against the Track API; both stored encrypted (as PostHog does)."""

    site_id: str = Field(description="The workspace's site ID. Never returned.", json_schema_extra={"writeOnly": True})
    api_key: str = Field(description="The workspace's Track API key. Never returned.", json_schema_extra={"writeOnly": True})
    region: str = _REGION_FIELD


class CustomerIOWebhookConfig(BaseModel):
    """`config` of a `customerio-webhook` integration: the signing secret of Customer.io's reporting
    webhooks (stored encrypted; Customer.io offers no call to check it)."""

    webhook_signing_secret: str = Field(
        description="The webhook's signing secret. Never returned.", json_schema_extra={"writeOnly": True}
    )


def _strings(config: dict[str, Any], names: tuple[str, ...], missing: str) -> list[str]:
    values = [config.get(name) for name in names]
    if any(not isinstance(v, str) or not v.strip() for v in values):
        raise ValidationError(missing)
    cleaned = [str(v).strip() for v in values]
    for name, value in zip(names, cleaned, strict=True):
        if has_blank_or_control(value):
            raise ValidationError(f"{name} must not contain whitespace or control characters", attr=name)
    return cleaned


def _region(config: dict[str, Any]) -> str:
    region = config.get("region", "us")
    if not isinstance(region, str) or region.strip().lower() not in REGIONS:
        raise ValidationError(REGION_INVALID, attr="region")
    return region.strip().lower()


class CustomerIOAppCredentials:
    config_model = CustomerIOAppConfig

    async def build(self, settings: Settings, config: dict[str, Any]) -> BuiltCredentials:
        (key,) = _strings(config, ("app_api_key",), APP_KEY_MISSING)
        region = _region(config)
        try:
            await workspaces(settings, region, key)
        except UpstreamError as exc:
            raise check_failed(NAME, exc, ValidationError(APP_KEY_REFUSED, attr="app_api_key")) from None
        return BuiltCredentials(None, {"region": region}, {"app_api_key": key})


class CustomerIOTrackCredentials:
    config_model = CustomerIOTrackConfig

    async def build(self, settings: Settings, config: dict[str, Any]) -> BuiltCredentials:
        site_id, key = _strings(config, ("site_id", "api_key"), TRACK_MISSING)
        region = _region(config)
        try:
            await account_region(settings, region, site_id, key)
        except UpstreamError as exc:
            raise check_failed(NAME, exc, ValidationError(TRACK_REFUSED, attr="api_key")) from None
        return BuiltCredentials(None, {"region": region}, {"site_id": site_id, "api_key": key})


class CustomerIOWebhookCredentials:
    config_model = CustomerIOWebhookConfig

    async def build(self, settings: Settings, config: dict[str, Any]) -> BuiltCredentials:
        (secret,) = _strings(config, ("webhook_signing_secret",), WEBHOOK_MISSING)
        return BuiltCredentials(None, {}, {"webhook_signing_secret": secret})
