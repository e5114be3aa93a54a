"""TikTok Business: its own authorize parameters, a JSON token request, answers wrapped in
{"code", "message", "data"}."""

from __future__ import annotations

from typing import Any

import httpx

from patchbay.kit.errors import ValidationError
from patchbay.providers import registry
from patchbay.providers.base import OAuthQuirks, Provider
from patchbay.providers.catalog import OAuthProvider
from patchbay.providers.oauth_helpers import Exchange, json_or_none

USER_INFO = "https://business-api.tiktok.com/open_api/v1.3/user/info/"


class JsonAppSecretAuth:
    """{"app_id", "secret", "auth_code" | "refresh_token"} as JSON."""

    async def post(
        self,
        client: httpx.AsyncClient,
        url: str,
        fields: dict[str, str],
        client_id: str,
        client_secret: str,
        headers: dict[str, str],
    ) -> httpx.Response:
        payload = {"app_id": client_id, "secret": client_secret}
        if "code" in fields:
            payload["auth_code"] = fields["code"]
        if "refresh_token" in fields:
            payload["refresh_token"] = fields["refresh_token"]
        return await client.post(url, json=payload, headers=headers)


class TikTokOAuth(OAuthQuirks):
    token_auth = JsonAppSecretAuth()

    def authorize_params(
        self, provider: OAuthProvider, client_id: str, redirect_uri: str, state: str
    ) -> dict[str, str]:
        return {"app_id": client_id, "redirect_uri": redirect_uri, "state": state}

    def display_name(self, integration_id: str | None, config: dict[str, Any]) -> str | None:
        return str(config.get("user_email") or config.get("user_display_name") or integration_id)

    def normalize_token_response(self, data: dict[str, Any]) -> dict[str, Any]:
        if data.get("code") not in (0, None):
            return {"error": str(data.get("code")), "error_description": data.get("message")}
        inner: dict[str, Any] = data["data"] if isinstance(data.get("data"), dict) else {}
        result: dict[str, Any] = {"data": {k: v for k, v in inner.items() if k != "access_token"}}
        if inner.get("access_token"):
            result["access_token"] = inner["access_token"]
        return result

    async def enrich(self, exchange: Exchange) -> None:
        data = exchange.config.get("data") or {}
        if not data.get("advertiser_ids"):
            raise ValidationError(
                "No TikTok ad accounts were authorized. Please try again and select at least one ad account."
            )
        response = await exchange.client.get(
            exchange.url(USER_INFO), headers={"Access-Token": str(exchange.secrets.get("access_token", ""))}
        )
        body = json_or_none(response) if response.status_code == 200 else None
        info: dict[str, Any] = (
            body["data"] if isinstance(body, dict) and isinstance(body.get("data"), dict) else {}
        )
        if info.get("email"):
            exchange.config["user_email"] = info["email"]
        if info.get("display_name"):
            exchange.config["user_display_name"] = info["display_name"]


PROVIDER = registry.register(
    Provider(name="tiktok", display_name="TikTok", kinds=("tiktok-ads",), oauth=TikTokOAuth())
)
