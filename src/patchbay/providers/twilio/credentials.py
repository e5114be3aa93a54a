"""The `twilio` kind: an account SID and auth token, checked against the account endpoint."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from patchbay.config import Settings
from patchbay.kit.errors import ProviderRateLimited, ProviderUnavailable, ProviderUnreachable, ValidationError
from patchbay.kit.provider_errors import Failure, UpstreamError
from patchbay.providers.base import BuiltCredentials
from patchbay.providers.twilio.client import TwilioClient, twilio_http

ACCOUNT_INFO_FAILED = "Failed to get account info"


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


async def fetch_account(settings: Settings, account_sid: str, auth_token: str) -> dict[str, Any]:
    """The account, or the envelope saying why it could not be read (in words about the check)."""
    try:
        async with twilio_http(settings, account_sid, auth_token, timeout=settings.http_timeout) as http:
            data = await TwilioClient(http, account_sid).account()
    except UpstreamError as exc:
        raise _check_failed(exc) from None
    if not isinstance(data, dict) or not isinstance(data.get("sid"), str):
        raise ValidationError(ACCOUNT_INFO_FAILED, attr="account_info")
    return data


def _check_failed(error: UpstreamError) -> Exception:
    if error.failure is Failure.UNREACHABLE:
        if error.reason == "timeout":
            return ProviderUnreachable(
                "Twilio did not respond in time while we checked the account. Please try again."
            )
        return ProviderUnreachable("Twilio could not be reached while we checked the account. Please try again.")
    if error.failure is Failure.RATE_LIMITED:
        return ProviderRateLimited("Twilio", error.retry_after)
    if error.failure is Failure.UNAVAILABLE and error.reason == "malformed body":
        return ProviderUnavailable("Twilio sent an answer we could not read. Please try again later.")
    if error.failure is Failure.UNAVAILABLE and error.retryable:  # 5xx
        return ProviderUnavailable(
            "Twilio answered with an error while we checked the account. Please try again later."
        )
    return ValidationError(ACCOUNT_INFO_FAILED, attr="account_info")


class TwilioCredentials:
    config_model = TwilioConfig

    async def build(self, settings: Settings, config: dict[str, Any]) -> BuiltCredentials:
        account_sid = config.get("account_sid")
        auth_token = config.get("auth_token")
        if not account_sid or not auth_token:
            raise ValidationError("Account SID and auth token must be provided")
        if not isinstance(account_sid, str) or not isinstance(auth_token, str):
            raise ValidationError("Account SID and auth token must be strings")
        account = await fetch_account(settings, account_sid, auth_token)
        sid = account["sid"]
        return BuiltCredentials(
            integration_id=sid,
            config={"account_sid": sid},
            sensitive_config={"auth_token": auth_token},
            verified=True,
        )
