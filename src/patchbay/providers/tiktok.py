"""TikTok Business: JSON token request, answers wrapped in {"code", "message", "data"}."""

from __future__ import annotations

from typing import Any

from patchbay.kit.errors import ValidationError
from patchbay.providers.base import Exchange, json_or_none

USER_INFO = "https://business-api.tiktok.com/open_api/v1.3/user/info/"


def normalize_token_response(data: dict[str, Any]) -> dict[str, Any]:
    if data.get("code") not in (0, None):
        return {"error": str(data.get("code")), "error_description": data.get("message")}
    inner: dict[str, Any] = data["data"] if isinstance(data.get("data"), dict) else {}
    result: dict[str, Any] = {"data": {k: v for k, v in inner.items() if k != "access_token"}}
    if inner.get("access_token"):
        result["access_token"] = inner["access_token"]
    return result


async def enrich(exchange: Exchange) -> None:
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
