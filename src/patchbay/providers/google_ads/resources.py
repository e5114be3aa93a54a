"""Google Ads resource lists, as PostHog answers them:

- `google_accessible_accounts/` → `{"accessibleAccounts": [{"parent_id", "id", "level", "name", "manager"}]}`:
  `customers:listAccessibleCustomers`, then each root's hierarchy through `googleAds:searchStream`
  (enabled accounts only; one reached from two roots is kept at its shallowest).
- `google_conversion_actions/?customerId=&parentId=` → `{"conversionActions": [{"id", "name", "resourceName"}]}`.

Every call carries the developer token (PATCHBAY_GOOGLE_ADS_DEVELOPER_TOKEN) and, under a manager
account, `login-customer-id`. The API host moves with PATCHBAY_GOOGLE_ADS_API_URL."""

from __future__ import annotations

import re
from typing import Any

import httpx
from fastapi import Query
from pydantic import BaseModel

from patchbay.config import Settings
from patchbay.kit.errors import ValidationError
from patchbay.kit.http import outbound_client
from patchbay.kit.provider_errors import Failure, UpstreamError, classify_status, json_body, send
from patchbay.kit.retry import read_with_retries
from patchbay.providers import registry
from patchbay.providers.base import ResourceLister, ResourceRoute, ResourceSession

KIND = "google-ads"
API = "https://googleads.googleapis.com/v24"
CLIENTS_QUERY = (
    "SELECT customer_client.descriptive_name, customer_client.client_customer, customer_client.level, "
    "customer_client.manager, customer_client.status FROM customer_client WHERE customer_client.level <= 5"
)
CONVERSIONS_QUERY = (
    "SELECT conversion_action.id, conversion_action.name FROM conversion_action "
    "WHERE conversion_action.status != 'REMOVED'"
)
CUSTOMER_ID = re.compile(r"^[0-9]{1,20}$")
NOT_CONFIGURED = "Kind not configured. Set PATCHBAY_GOOGLE_ADS_DEVELOPER_TOKEN on the Patchbay server."


class GoogleAdsAccount(BaseModel):
    """A Google Ads account reachable by the connected user; `parent_id` is the account to log in as."""

    parent_id: str | None
    id: str
    level: str | int | None
    name: str
    manager: bool


class GoogleAccessibleAccountsResponse(BaseModel):
    """Google Ads accounts the connected user can reach, managers' client accounts included."""

    accessibleAccounts: list[GoogleAdsAccount]  # noqa: N815 - PostHog's key


class GoogleConversionAction(BaseModel):
    """A conversion action of a Google Ads account."""

    id: str
    name: str
    resourceName: str  # noqa: N815 - Google's key, as PostHog passes it on


class GoogleConversionActionsResponse(BaseModel):
    """The account's conversion actions (removed ones left out)."""

    conversionActions: list[GoogleConversionAction]  # noqa: N815 - PostHog's key


def url(settings: Settings, path: str) -> str:
    provider = registry.oauth_provider(KIND)
    default = f"{API}/{path}"
    return provider.resolve(settings, default) if provider is not None else default


def _headers(settings: Settings, token: str, login_customer_id: str | None) -> dict[str, str]:
    developer_token = settings.kind_setting(KIND, "DEVELOPER_TOKEN")
    if not developer_token:
        raise ValidationError(NOT_CONFIGURED)
    headers = {"Authorization": f"Bearer {token}", "developer-token": developer_token}
    if login_customer_id:
        headers["login-customer-id"] = login_customer_id
    return headers


async def _read(http: httpx.AsyncClient, method: str, target: str, **kwargs: Any) -> Any:
    async def once() -> Any:
        response = await send(http, KIND, method, target, **kwargs)
        error = classify_status(KIND, response)
        if error is not None:
            raise error
        return json_body(KIND, response)

    return await read_with_retries(once)


def _rows(stream: Any) -> list[dict[str, Any]]:
    """searchStream's REST answer is an array of batches, each with its `results`."""
    if not isinstance(stream, list):
        raise UpstreamError(KIND, Failure.UNAVAILABLE, "unexpected body shape")
    return [
        row
        for chunk in stream
        if isinstance(chunk, dict)
        for row in chunk.get("results", [])
        if isinstance(row, dict)
    ]


def _level(account: dict[str, Any]) -> int:
    # Google omits proto3 defaults: a level-0 row has no `level`; deeper ones arrive as strings.
    return int(account.get("level") or 0)


async def accessible_accounts(settings: Settings, token: str) -> list[dict[str, Any]]:
    async with outbound_client(timeout=settings.http_timeout) as http:
        listed = await _read(
            http,
            "GET",
            url(settings, "customers:listAccessibleCustomers"),
            headers=_headers(settings, token, None),
        )
        roots = [
            str(name).split("/")[1] for name in (listed or {}).get("resourceNames", []) if "/" in str(name)
        ]
        accounts: list[dict[str, Any]] = []
        for root in roots:
            try:
                stream = await _read(
                    http,
                    "POST",
                    url(settings, f"customers/{root}/googleAds:searchStream"),
                    json={"query": CLIENTS_QUERY},
                    headers=_headers(settings, token, root),
                )
            except UpstreamError as exc:
                if exc.failure is Failure.AUTH:
                    raise
                continue  # one unreadable root hides its accounts, not everyone's (PostHog does the same)
            for row in _rows(stream):
                client = row.get("customerClient") or {}
                if client.get("status") != "ENABLED" or "/" not in str(client.get("clientCustomer", "")):
                    continue
                client_id = str(client["clientCustomer"]).split("/")[1]
                seen = [a for a in accounts if a["id"] == client_id]
                if seen and all(_level(a) <= _level(client) for a in seen):
                    continue
                accounts = [a for a in accounts if a["id"] != client_id]
                accounts.append(
                    {
                        "parent_id": root,
                        "id": client_id,
                        "level": client.get("level"),
                        "name": client.get("descriptiveName", "Google Ads account"),
                        "manager": bool(client.get("manager", False)),
                    }
                )
    return accounts


async def conversion_actions(
    settings: Settings, token: str, customer_id: str, parent_id: str | None
) -> list[dict[str, Any]]:
    async with outbound_client(timeout=settings.http_timeout) as http:
        stream = await _read(
            http,
            "POST",
            url(settings, f"customers/{customer_id}/googleAds:searchStream"),
            json={"query": CONVERSIONS_QUERY},
            headers=_headers(settings, token, parent_id),
        )
    actions = []
    for row in _rows(stream):
        action = row.get("conversionAction") or {}
        if action.get("id") is not None:
            actions.append(
                {
                    "id": str(action["id"]),
                    "name": str(action.get("name", "")),
                    "resourceName": str(action.get("resourceName", "")),
                }
            )
    return actions


def _customer(value: str | None, attr: str) -> str | None:
    if value is None or value == "":
        return None
    digits = value.replace("-", "")
    if not CUSTOMER_ID.match(digits):
        raise ValidationError("Enter a Google Ads customer ID (digits, dashes allowed).", attr=attr)
    return digits


async def google_accessible_accounts(
    session: ResourceSession,
    force_refresh: bool = Query(False, description="Read the accounts again (signed-in browsers only)."),
) -> dict[str, Any]:
    """Google Ads accounts the connected user can reach. Needs `integration:read`."""
    token = await session.access_token()

    async def fetch() -> list[dict[str, Any]]:
        return await accessible_accounts(session.settings, token)

    key = session.cache_key("google_ads", "accessible_accounts")
    return await session.cached_list(
        key, "accessibleAccounts", fetch, action="list accounts", force_refresh=force_refresh
    )


async def google_conversion_actions(
    session: ResourceSession,
    customerId: str | None = Query(None, description="The Google Ads account (customer) ID; required."),  # noqa: N803 - PostHog's name
    parentId: str | None = Query(None, description="The manager account to log in as."),  # noqa: N803
) -> dict[str, Any]:
    """Conversion actions of one Google Ads account. Needs `integration:read`."""
    customer = _customer(customerId, "customerId")
    if customer is None:  # checked here, after the kind: another kind hears about the kind first
        raise ValidationError("This field is required.", code="required", attr="customerId")
    parent = _customer(parentId, "parentId")
    token = await session.access_token()

    async def fill() -> dict[str, Any]:
        async def fetch() -> list[dict[str, Any]]:
            return await conversion_actions(session.settings, token, customer, parent)

        return {"conversionActions": await session.call(fetch, action="list conversion actions")}

    return await session.cached(
        session.cache_key("google_ads", "conversions", customer, parent or ""), fill, force=False
    )


RESOURCES = ResourceLister(
    routes=(
        ResourceRoute(
            path="google_accessible_accounts",
            name="integrations_google_accessible_accounts_retrieve",
            response_model=GoogleAccessibleAccountsResponse,
            handler=google_accessible_accounts,
            wrong_kind="google_accessible_accounts endpoint is only supported for Google Ads integrations",
        ),
        ResourceRoute(
            path="google_conversion_actions",
            name="integrations_google_conversion_actions_retrieve",
            response_model=GoogleConversionActionsResponse,
            handler=google_conversion_actions,
            wrong_kind="google_conversion_actions endpoint is only supported for Google Ads integrations",
        ),
    ),
    marks_integration_on_auth=True,
    refresh_failure_is_auth=True,
)
