"""`GET …/integrations/{id}/linkedin_ads_accounts/`: the ad accounts the connected member can reach,
as PostHog answers them (`{"adAccounts": [{"id", "name", "reference"}]}`), from LinkedIn's
versioned REST API (`/rest/adAccounts?q=search`, following `metadata.nextPageToken`)."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import Query
from pydantic import BaseModel

from patchbay.config import Settings
from patchbay.kit.http import outbound_client
from patchbay.kit.provider_errors import Failure, UpstreamError, classify_status, json_object, send
from patchbay.kit.retry import read_with_retries
from patchbay.providers import registry
from patchbay.providers.base import ResourceLister, ResourceRoute, ResourceSession

AD_ACCOUNTS = "https://api.linkedin.com/rest/adAccounts"
LINKEDIN_VERSION = "202607"  # the version PostHog pins
PAGE_SIZE = 100
MAX_PAGES = 10


class LinkedInAdAccount(BaseModel):
    """A LinkedIn ad account; `reference` is the organization (or member) it belongs to."""

    id: int | str
    name: str
    reference: str | None = None


class LinkedInAdAccountsResponse(BaseModel):
    """The ad accounts the connected LinkedIn member can reach."""

    adAccounts: list[LinkedInAdAccount]  # noqa: N815 - PostHog's key


def accounts_url(settings: Settings) -> str:
    provider = registry.oauth_provider("linkedin-ads")
    return provider.resolve(settings, AD_ACCOUNTS) if provider is not None else AD_ACCOUNTS


async def _page(http: httpx.AsyncClient, url: str, page_token: str | None) -> dict[str, Any]:
    params: dict[str, Any] = {
        "q": "search",
        "pageSize": PAGE_SIZE,
        **({"pageToken": page_token} if page_token else {}),
    }

    async def once() -> dict[str, Any]:
        response = await send(http, "linkedin-ads", "GET", url, params=params)
        error = classify_status("linkedin-ads", response)
        if error is not None:
            raise error
        body = json_object("linkedin-ads", response, "elements")
        if not isinstance(body["elements"], list):
            raise UpstreamError("linkedin-ads", Failure.UNAVAILABLE, "unexpected body shape")
        return body

    return await read_with_retries(once)


async def list_ad_accounts(settings: Settings, token: str) -> list[dict[str, Any]]:
    accounts: list[dict[str, Any]] = []
    headers = {
        "Authorization": f"Bearer {token}",
        "LinkedIn-Version": LINKEDIN_VERSION,
        "X-Restli-Protocol-Version": "2.0.0",
    }
    url = accounts_url(settings)
    async with outbound_client(timeout=settings.http_timeout, headers=headers) as http:
        page_token: str | None = None
        for _ in range(MAX_PAGES):
            body = await _page(http, url, page_token)
            for item in body["elements"]:
                if isinstance(item, dict) and item.get("id") is not None:
                    accounts.append(
                        {
                            "id": item["id"],
                            "name": str(item.get("name", "")),
                            "reference": item.get("reference"),
                        }
                    )
            metadata = body.get("metadata")
            page_token = metadata.get("nextPageToken") if isinstance(metadata, dict) else None
            if not page_token:
                break
    return accounts


async def linkedin_ads_accounts(
    session: ResourceSession,
    force_refresh: bool = Query(False, description="Read the list again (signed-in browsers only)."),
) -> dict[str, Any]:
    """Ad accounts the connected LinkedIn member can reach. Needs `integration:read`."""
    token = await session.access_token()

    async def fetch() -> list[dict[str, Any]]:
        return await list_ad_accounts(session.settings, token)

    key = session.cache_key("linkedin", "ad_accounts")
    return await session.cached_list(
        key, "adAccounts", fetch, action="list ad accounts", force_refresh=force_refresh
    )


RESOURCES = ResourceLister(
    routes=(
        ResourceRoute(
            path="linkedin_ads_accounts",
            name="integrations_linkedin_ads_accounts_retrieve",
            response_model=LinkedInAdAccountsResponse,
            handler=linkedin_ads_accounts,
            wrong_kind="linkedin_ads_accounts endpoint is only supported for LinkedIn Ads integrations",
        ),
    ),
    marks_integration_on_auth=True,
    refresh_failure_is_auth=True,
)
