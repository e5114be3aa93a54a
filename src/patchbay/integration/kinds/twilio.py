"""Twilio: account SID and auth token, checked against the account endpoint."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx
from pydantic import BaseModel, Field

from patchbay.integration.kinds import BuiltIntegration, kind_builder
from patchbay.kit.errors import ProviderRateLimited, ProviderUnavailable, ProviderUnreachable, ValidationError
from patchbay.kit.http import outbound_client, retry_after_seconds

if TYPE_CHECKING:
    from patchbay.tenancy.context import ProjectContext

DEFAULT_API_URL = "https://api.twilio.com"


def twilio_api_url(settings: Any) -> str:
    return str(settings.kind_setting("twilio", "API_URL") or DEFAULT_API_URL).rstrip("/")


async def fetch_account(settings: Any, account_sid: str, auth_token: str) -> dict[str, Any]:
    url = f"{twilio_api_url(settings)}/2010-04-01/Accounts/{quote(account_sid, safe='')}.json"
    try:
        async with outbound_client(timeout=settings.http_timeout) as client:
            response = await client.get(url, auth=(account_sid, auth_token))
    except httpx.TimeoutException:
        raise ProviderUnreachable(
            "Twilio did not respond in time while we checked the account. Please try again."
        ) from None
    except httpx.HTTPError:
        raise ProviderUnreachable(
            "Twilio could not be reached while we checked the account. Please try again."
        ) from None
    if response.status_code == 429:
        raise ProviderRateLimited("Twilio", retry_after_seconds(response))
    if response.status_code >= 500:
        raise ProviderUnavailable(
            "Twilio answered with an error while we checked the account. Please try again later."
        )
    if response.status_code != 200:
        raise ValidationError("Failed to get account info", attr="account_info")
    try:
        data = response.json()
    except ValueError:
        raise ProviderUnavailable(
            "Twilio sent an answer we could not read. Please try again later."
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("sid"), str):
        raise ValidationError("Failed to get account info", attr="account_info")
    return data


class TwilioConfig(BaseModel):
    """`config` of a `twilio` integration. Patchbay checks the pair against Twilio's account endpoint;
    the account SID becomes the integration's id and the token is stored encrypted."""

    account_sid: str = Field(
        description="The Twilio account SID (starts with AC).",
        examples=["AC0123456789abcdef0123456789abcdef"],
    )
    auth_token: str = Field(
        description="The account's auth token. Never returned.", json_schema_extra={"writeOnly": True}
    )


@kind_builder("twilio", config=TwilioConfig)
async def build_twilio(ctx: ProjectContext, config: dict[str, Any]) -> BuiltIntegration:
    account_sid = config.get("account_sid")
    auth_token = config.get("auth_token")
    if not account_sid or not auth_token:
        raise ValidationError("Account SID and auth token must be provided")
    if not isinstance(account_sid, str) or not isinstance(auth_token, str):
        raise ValidationError("Account SID and auth token must be strings")
    account = await fetch_account(ctx.runtime.settings, account_sid, auth_token)
    sid = account["sid"]
    return BuiltIntegration(
        integration_id=sid, config={"account_sid": sid}, sensitive_config={"auth_token": auth_token}
    )
