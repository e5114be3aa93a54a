"""Customer.io's two APIs, each in two regions (US, EU): the App API (Bearer app API key; listing
workspaces is its cheapest call) and the Track API (HTTP Basic site_id:api_key; the account's region
is its cheapest call). Bases: PATCHBAY_CUSTOMERIO_APP_API_URL / _EU_API_URL and
PATCHBAY_CUSTOMERIO_TRACK_API_URL / _EU_API_URL."""

from __future__ import annotations

from typing import Any

import httpx

from patchbay.config import Settings
from patchbay.kit.http import outbound_client
from patchbay.providers.credential_check import fetch_json

REGIONS = ("us", "eu")
DEFAULT_URLS = {
    ("customerio-app", "us"): "https://api.customer.io",
    ("customerio-app", "eu"): "https://api-eu.customer.io",
    ("customerio-track", "us"): "https://track.customer.io",
    ("customerio-track", "eu"): "https://track-eu.customer.io",
}


def api_url(settings: Settings, kind: str, region: str) -> str:
    suffix = "API_URL" if region == "us" else "EU_API_URL"
    return (settings.kind_setting(kind, suffix) or DEFAULT_URLS[(kind, region)]).rstrip("/")


def app_http(settings: Settings, region: str, app_api_key: str) -> httpx.AsyncClient:
    return outbound_client(
        timeout=httpx.Timeout(settings.http_timeout),
        base_url=api_url(settings, "customerio-app", region),
        headers={"Authorization": f"Bearer {app_api_key}"},
    )


def track_http(settings: Settings, region: str, site_id: str, api_key: str) -> httpx.AsyncClient:
    client = outbound_client(
        timeout=httpx.Timeout(settings.http_timeout), base_url=api_url(settings, "customerio-track", region)
    )
    client.auth = httpx.BasicAuth(site_id, api_key)
    return client


async def workspaces(settings: Settings, region: str, app_api_key: str) -> Any:
    """GET /v1/workspaces (App API); raises UpstreamError."""
    async with app_http(settings, region, app_api_key) as http:
        return await fetch_json(http, "customerio", "GET", "/v1/workspaces")


async def account_region(settings: Settings, region: str, site_id: str, api_key: str) -> Any:
    """GET /api/v1/accounts/region (Track API); raises UpstreamError."""
    async with track_http(settings, region, site_id, api_key) as http:
        return await fetch_json(http, "customerio", "GET", "/api/v1/accounts/region")
