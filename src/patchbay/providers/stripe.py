"""Stripe Apps: the display name is the connected account's name, read with the app's secret key."""

from __future__ import annotations

from patchbay.providers.base import Exchange, json_or_none

ACCOUNTS_URL = "https://api.stripe.com/v1/accounts/"


async def enrich(exchange: Exchange) -> None:
    exchange.config.pop("is_sandbox", None)
    account_id = exchange.config.get("stripe_user_id")
    if not account_id:
        return
    name = None
    response = await exchange.client.get(
        exchange.url(ACCOUNTS_URL) + str(account_id), auth=(exchange.client_secret, "")
    )
    body = json_or_none(response) if response.status_code == 200 else None
    if isinstance(body, dict):
        dashboard = (body.get("settings") or {}).get("dashboard") or {}
        profile = body.get("business_profile") or {}
        name = dashboard.get("display_name") or profile.get("name")
    exchange.config["account_name"] = f"{name} ({account_id})" if name else str(account_id)
