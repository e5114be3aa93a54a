"""Resend: the account is named by the access token's (JWT) claims."""

from __future__ import annotations

from patchbay.providers import registry
from patchbay.providers.base import OAuthQuirks, Provider
from patchbay.providers.oauth_helpers import Exchange, jwt_claims


class ResendOAuth(OAuthQuirks):
    async def enrich(self, exchange: Exchange) -> None:
        claims = jwt_claims(exchange.secrets.get("access_token"))
        account_id = claims.get("sub") or exchange.config.get("team_id")
        exchange.config["resend_account_id"] = account_id
        exchange.config["resend_account_name"] = claims.get("name") or claims.get("team_name") or account_id


PROVIDER = registry.register(
    Provider(name="resend", display_name="Resend", kinds=("resend",), oauth=ResendOAuth())
)
