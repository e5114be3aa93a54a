"""Anthropic's API (x-api-key and anthropic-version on every request): listing one model is the
cheapest call every valid key may make, and costs no tokens."""

from __future__ import annotations

from typing import Any

import httpx

from patchbay.config import Settings
from patchbay.kit.http import outbound_client
from patchbay.providers.credential_check import fetch_json

DEFAULT_API_URL = "https://api.anthropic.com"
API_VERSION = "2023-06-01"


def api_url(settings: Settings) -> str:
    return (settings.kind_setting("anthropic", "API_URL") or DEFAULT_API_URL).rstrip("/")


def auth_headers(api_key: str) -> dict[str, str]:
    return {"x-api-key": api_key, "anthropic-version": API_VERSION}


def anthropic_http(settings: Settings, api_key: str) -> httpx.AsyncClient:
    return outbound_client(
        timeout=httpx.Timeout(settings.http_timeout), base_url=api_url(settings), headers=auth_headers(api_key)
    )


async def first_model(settings: Settings, api_key: str) -> Any:
    """GET /v1/models?limit=1; raises UpstreamError."""
    async with anthropic_http(settings, api_key) as http:
        return await fetch_json(http, "anthropic", "GET", "/v1/models", params={"limit": 1})
