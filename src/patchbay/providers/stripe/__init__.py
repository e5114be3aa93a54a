"""Stripe Apps: the token endpoint takes the app's secret key as HTTP Basic user (no redirect_uri);
the display name is the connected account's name, read with that key."""

from __future__ import annotations

import httpx

from patchbay.providers import registry
from patchbay.providers.base import OAuthQuirks, Provider
from patchbay.providers.oauth_helpers import Exchange, json_or_none

ACCOUNTS_URL = "https://api.stripe.com/v1/accounts/"


class SecretKeyAuth:
    async def post(
        self,
        client: httpx.AsyncClient,
        url: str,
        fields: dict[str, str],
        client_id: str,
        client_secret: str,
        headers: dict[str, str],
    ) -> httpx.Response:
        body = {k: v for k, v in fields.items() if k != "redirect_uri"}
        return await client.post(url, data=body, auth=(client_secret, ""), headers=headers)


class StripeOAuth(OAuthQuirks):
    token_auth = SecretKeyAuth()

    async def enrich(self, exchange: Exchange) -> None:
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


PROVIDER = registry.register(
    Provider(name="stripe", display_name="Stripe", kinds=("stripe",), oauth=StripeOAuth())
)
