"""Microsoft Advertising (bing-ads): the account comes from the OpenID `id_token`'s claims."""

from __future__ import annotations

from patchbay.providers import registry
from patchbay.providers.base import OAuthQuirks, Provider
from patchbay.providers.oauth_helpers import Exchange, jwt_claims


class MicrosoftOAuth(OAuthQuirks):
    async def enrich(self, exchange: Exchange) -> None:
        claims = jwt_claims(exchange.secrets.get("id_token"))
        exchange.config["id"] = claims.get("oid") or claims.get("sub")
        exchange.config["userPrincipalName"] = claims.get("preferred_username") or claims.get("email")


PROVIDER = registry.register(
    Provider(name="microsoft", display_name="Microsoft Ads", kinds=("bing-ads",), oauth=MicrosoftOAuth())
)
