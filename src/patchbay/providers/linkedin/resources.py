"""LinkedIn Ads' resource routes, as PostHog answers them, from LinkedIn's versioned REST API:

- `GET …/linkedin_ads_accounts/`: the ad accounts the connected member can reach
  (`{"adAccounts": [{"id", "name", "reference"}]}`; `/rest/adAccounts?q=search`, following
  `metadata.nextPageToken`).
- `GET …/linkedin_ads_conversion_rules/?accountId=`: one ad account's conversion rules
  (`{"conversionRules": [{"id", "name"}]}`; `/rest/conversions?q=account`, paged by `start`/`count`).
Both are cached an hour (per account for the rules)."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import Query
from pydantic import BaseModel

from patchbay.config import Settings
from patchbay.kit.errors import ValidationError
from patchbay.kit.http import outbound_client
from patchbay.kit.provider_errors import Failure, UpstreamError, classify_status, json_object, send
from patchbay.kit.retry import read_with_retries
from patchbay.providers import registry
from patchbay.providers.base import ResourceLister, ResourceRoute, ResourceSession

AD_ACCOUNTS = "https://api.linkedin.com/rest/adAccounts"
CONVERSIONS = "https://api.linkedin.com/rest/conversions"
CONVERSION_FIELDS = "conversionMethod,enabled,type,name,id,campaigns,attributionType"  # PostHog's
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


class LinkedInConversionRule(BaseModel):
    """A conversion rule of a LinkedIn ad account."""

    id: int | str
    name: str


class LinkedInConversionRulesResponse(BaseModel):
    """The conversion rules of one LinkedIn ad account."""

    conversionRules: list[LinkedInConversionRule]  # noqa: N815 - PostHog's key


def _resolve(settings: Settings, url: str) -> str:
    provider = registry.oauth_provider("linkedin-ads")
    return provider.resolve(settings, url) if provider is not None else url


def accounts_url(settings: Settings) -> str:
    return _resolve(settings, AD_ACCOUNTS)


def _headers(token: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {token}",
        "LinkedIn-Version": LINKEDIN_VERSION,
        "X-Restli-Protocol-Version": "2.0.0",
    }


async def _get_elements(http: httpx.AsyncClient, url: str, params: dict[str, Any]) -> dict[str, Any]:
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


async def _page(http: httpx.AsyncClient, url: str, page_token: str | None) -> dict[str, Any]:
    params: dict[str, Any] = {
        "q": "search",
        "pageSize": PAGE_SIZE,
        **({"pageToken": page_token} if page_token else {}),
    }
    return await _get_elements(http, url, params)


async def list_conversion_rules(settings: Settings, token: str, account_id: str) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    url = _resolve(settings, CONVERSIONS)
    params: dict[str, Any] = {
        "q": "account",
        "account": f"urn:li:sponsoredAccount:{account_id}",
        "fields": CONVERSION_FIELDS,
        "count": PAGE_SIZE,
    }
    async with outbound_client(timeout=settings.http_timeout, headers=_headers(token)) as http:
        start = 0
        for _ in range(MAX_PAGES):
            body = await _get_elements(http, url, {**params, "start": start})
            elements = body["elements"]
            rules.extend(
                {"id": item["id"], "name": str(item.get("name", ""))}
                for item in elements
                if isinstance(item, dict) and item.get("id") is not None
            )
            start += len(elements)
            paging = body.get("paging")
            total = paging.get("total") if isinstance(paging, dict) else None
            # `paging.total` when LinkedIn gives it; else a short page is the last.
            if not elements or (start >= total if isinstance(total, int) else len(elements) < PAGE_SIZE):
                break
    return rules


async def list_ad_accounts(settings: Settings, token: str) -> list[dict[str, Any]]:
    accounts: list[dict[str, Any]] = []
    url = accounts_url(settings)
    async with outbound_client(timeout=settings.http_timeout, headers=_headers(token)) as http:
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


async def linkedin_ads_conversion_rules(
    session: ResourceSession,
    # Checked in the handler, after the integration is found: a foreign id is 404 before any 400.
    accountId: str = Query("", description="The ad account's numeric id (required)."),  # noqa: N803 - PostHog's name
    force_refresh: bool = Query(False, description="Read the list again (signed-in browsers only)."),
) -> dict[str, Any]:
    """Conversion rules of one LinkedIn ad account. Needs `integration:read`."""
    account_id = accountId.strip()
    if not account_id.isascii() or not account_id.isdigit():
        raise ValidationError("accountId must be a LinkedIn ad account's numeric id.", attr="accountId")
    token = await session.access_token()

    async def fetch() -> list[dict[str, Any]]:
        return await list_conversion_rules(session.settings, token, account_id)

    key = session.cache_key("linkedin", "conversion_rules", account_id)
    return await session.cached_list(
        key, "conversionRules", fetch, action="list conversion rules", force_refresh=force_refresh
    )


RESOURCES = ResourceLister(
    routes=(
        ResourceRoute(
            path="linkedin_ads_conversion_rules",
            name="integrations_linkedin_ads_conversion_rules_retrieve",
            response_model=LinkedInConversionRulesResponse,
            handler=linkedin_ads_conversion_rules,
            wrong_kind="linkedin_ads_conversion_rules endpoint is only supported for LinkedIn Ads integrations",
        ),
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
