"""Resend: the account is named by the access token's (JWT) claims."""

from __future__ import annotations

from patchbay.providers.base import Exchange, jwt_claims


async def enrich(exchange: Exchange) -> None:
    claims = jwt_claims(exchange.secrets.get("access_token"))
    account_id = claims.get("sub") or exchange.config.get("team_id")
    exchange.config["resend_account_id"] = account_id
    exchange.config["resend_account_name"] = claims.get("name") or claims.get("team_name") or account_id
