"""Twilio's REST API (HTTP Basic account_sid:auth_token): the account, and the incoming phone
numbers (following next_page_uri)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx

from patchbay.config import Settings
from patchbay.kit.http import outbound_client
from patchbay.kit.provider_errors import Failure, UpstreamError, classify_status, json_body, json_object, send
from patchbay.kit.retry import read_with_retries

DEFAULT_API_URL = "https://api.twilio.com"
PAGE_SIZE = 1000
MAX_PAGES = 10


def api_url(settings: Settings) -> str:
    return (settings.kind_setting("twilio", "API_URL") or DEFAULT_API_URL).rstrip("/")


class TwilioClient:
    def __init__(self, http: httpx.AsyncClient, account_sid: str) -> None:
        self.http = http
        self.account_sid = account_sid

    async def account(self) -> Any:
        """The account's JSON (not retried: a create request waits on it)."""
        response = await send(self.http, "twilio", "GET", f"/2010-04-01/Accounts/{quote(self.account_sid, safe='')}.json")
        error = classify_status("twilio", response)
        if error is not None:
            raise error
        return json_body("twilio", response)

    async def _page(self, url: str) -> dict[str, Any]:
        async def once() -> dict[str, Any]:
            response = await send(self.http, "twilio", "GET", url)
            error = classify_status("twilio", response)
            if error is not None:
                raise error
            body = json_object("twilio", response, "incoming_phone_numbers")
            if not isinstance(body["incoming_phone_numbers"], list):
                raise UpstreamError("twilio", Failure.UNAVAILABLE, "unexpected body shape")
            return body

        return await read_with_retries(once)

    async def phone_numbers(self) -> list[dict[str, Any]]:
        url: str | None = (
            f"/2010-04-01/Accounts/{quote(self.account_sid, safe='')}/IncomingPhoneNumbers.json?PageSize={PAGE_SIZE}"
        )
        numbers: list[dict[str, Any]] = []
        for _ in range(MAX_PAGES):
            if not url:
                break
            body = await self._page(url)
            for item in body["incoming_phone_numbers"]:
                if isinstance(item, dict) and "sid" in item:
                    numbers.append(
                        {
                            "sid": str(item["sid"]),
                            "phone_number": str(item.get("phone_number", "")),
                            "friendly_name": str(item.get("friendly_name", "")),
                        }
                    )
            next_uri = body.get("next_page_uri")
            # Only a path on the same API host is followed: never a URL the answer names elsewhere.
            url = next_uri if isinstance(next_uri, str) and next_uri.startswith("/2010-04-01/") else None
        return numbers


def twilio_http(
    settings: Settings, account_sid: str, auth_token: str, *, timeout: float
) -> httpx.AsyncClient:
    client = outbound_client(timeout=httpx.Timeout(timeout), base_url=api_url(settings))
    client.auth = httpx.BasicAuth(account_sid, auth_token)
    return client
