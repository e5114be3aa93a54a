"""LinkedIn and Microsoft (bing-ads): the account comes from the OpenID `id_token`'s claims."""

from __future__ import annotations

from patchbay.providers.base import Exchange, jwt_claims


async def enrich(exchange: Exchange) -> None:
    claims = jwt_claims(exchange.secrets.get("id_token"))
    if exchange.kind == "bing-ads":
        exchange.config["id"] = claims.get("oid") or claims.get("sub")
        exchange.config["userPrincipalName"] = claims.get("preferred_username") or claims.get("email")
    else:
        exchange.config["sub"] = claims.get("sub")
        exchange.config["email"] = claims.get("email")
