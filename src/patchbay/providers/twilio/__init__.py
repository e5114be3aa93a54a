"""Twilio: a credential kind (account SID + auth token), its phone numbers, a health check, the
proxy's Basic auth, its simulator."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

import httpx

from patchbay.config import Settings
from patchbay.kit.provider_errors import Failure, UpstreamError
from patchbay.providers import registry
from patchbay.providers.base import Provider
from patchbay.providers.twilio import simulator
from patchbay.providers.twilio.client import TwilioClient, api_url, twilio_http
from patchbay.providers.twilio.credentials import TwilioCredentials
from patchbay.providers.twilio.resources import RESOURCES


def _credentials(config: Mapping[str, Any], secrets: Mapping[str, Any]) -> tuple[str, str]:
    sid, token = config.get("account_sid"), secrets.get("auth_token")
    if not isinstance(sid, str) or not isinstance(token, str) or not sid or not token:
        raise UpstreamError("twilio", Failure.AUTH, "missing credentials")
    return sid, token


class TwilioProxy:
    refreshable = False  # HTTP Basic account_sid:auth_token, nothing to refresh
    user_host = False

    def base_url(self, settings: Settings, config: Mapping[str, Any]) -> str:
        return api_url(settings)

    def authorize(self, request: httpx.Request, config: Mapping[str, Any], secrets: Mapping[str, Any]) -> None:
        sid, token = _credentials(config, secrets)
        request.headers["Authorization"] = "Basic " + base64.b64encode(f"{sid}:{token}".encode()).decode()


class TwilioHandover:
    def hand_over(self, config: Mapping[str, Any], secrets: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
        sid, token = _credentials(config, secrets)
        return "basic", {"account_sid": sid, "auth_token": token}


class TwilioHealth:
    """GET the account: the one call every valid SID/token pair may make."""

    async def check(self, settings: Settings, config: Mapping[str, Any], secrets: Mapping[str, Any]) -> None:
        sid, token = _credentials(config, secrets)
        async with twilio_http(settings, sid, token, timeout=float(settings.http_timeout)) as http:
            await TwilioClient(http, sid).account()


PROVIDER = registry.register(
    Provider(
        name="twilio",
        display_name="Twilio",
        kinds=("twilio",),
        credential_kind=TwilioCredentials(),
        resources=RESOURCES,
        proxy=TwilioProxy(),
        handover=TwilioHandover(),
        health=TwilioHealth(),
        simulators=(simulator,),
    )
)
