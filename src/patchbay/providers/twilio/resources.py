"""Twilio's resource route: the account's incoming phone numbers, cached for an hour."""

from __future__ import annotations

from typing import Any

from fastapi import Query
from pydantic import BaseModel

from patchbay.kit.provider_errors import Failure, UpstreamError
from patchbay.kit.timefmt import utc_now_iso
from patchbay.providers.base import ResourceLister, ResourceRoute, ResourceSession
from patchbay.providers.twilio.client import TwilioClient, twilio_http


class TwilioPhoneNumber(BaseModel):
    """A phone number of the connected Twilio account."""

    sid: str
    phone_number: str
    friendly_name: str


class TwilioPhoneNumbersResponse(BaseModel):
    """Phone numbers of the connected Twilio account."""

    phone_numbers: list[TwilioPhoneNumber]
    lastRefreshedAt: str


async def twilio_phone_numbers(
    session: ResourceSession,
    force_refresh: bool = Query(False, description="Bypass the one-hour cache."),
) -> dict[str, Any]:
    """Phone numbers of the connected Twilio account (cached for an hour). Needs `integration:read`."""
    key = session.cache_key("twilio", "phone_numbers")

    async def fill() -> dict[str, Any]:
        secrets = await session.secrets()
        account_sid = session.config.get("account_sid") or session.integration_id
        auth_token = secrets.get("auth_token")
        if (
            not isinstance(account_sid, str)
            or not isinstance(auth_token, str)
            or not account_sid
            or not auth_token
        ):
            raise session.api_error(UpstreamError("twilio", Failure.AUTH, "missing credentials"))

        async def fetch() -> list[dict[str, Any]]:
            async with twilio_http(session.settings, account_sid, auth_token, timeout=session.http_timeout) as http:
                return await TwilioClient(http, account_sid).phone_numbers()

        return {"phone_numbers": await session.call(fetch), "lastRefreshedAt": utc_now_iso()}

    return await session.cached(key, fill, force=force_refresh)


RESOURCES = ResourceLister(
    routes=(
        ResourceRoute(
            path="twilio_phone_numbers",
            name="integrations_twilio_phone_numbers_retrieve",
            response_model=TwilioPhoneNumbersResponse,
            handler=twilio_phone_numbers,
            wrong_kind="twilio_phone_numbers endpoint is only supported for Twilio integrations",
            wrong_kind_attr="kind",
        ),
    ),
    priority=40,
)
