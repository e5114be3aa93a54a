"""Reddit Ads: the user id is in the access token (a JWT), the username comes from /api/v3/me; a dead
refresh token is answered with {"error": 400}."""

from __future__ import annotations

from typing import Any

from patchbay.providers import registry
from patchbay.providers.base import OAuthQuirks, Provider
from patchbay.providers.oauth_helpers import Exchange, json_or_none, jwt_claims

ME_URL = "https://ads-api.reddit.com/api/v3/me"


class RedditOAuth(OAuthQuirks):
    async def enrich(self, exchange: Exchange) -> None:
        claims = jwt_claims(exchange.secrets.get("access_token"))
        user_id = claims.get("lid") or claims.get("aid")
        response = await exchange.client.get(exchange.url(ME_URL), headers=exchange.bearer())
        body = json_or_none(response) if response.status_code == 200 else None
        data: dict[str, Any] = (
            body["data"] if isinstance(body, dict) and isinstance(body.get("data"), dict) else {}
        )
        exchange.config["reddit_user_id"] = user_id or data.get("id")
        if data.get("username"):
            exchange.config["data.reddit_username"] = data["username"]

    def classify_refresh_error(self, status: int, body: Any) -> str | None:
        if isinstance(body, dict) and body.get("error") == 400:
            return "invalid_grant"
        return None


PROVIDER = registry.register(
    Provider(name="reddit", display_name="Reddit Ads", kinds=("reddit-ads",), oauth=RedditOAuth())
)
