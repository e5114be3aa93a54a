"""LinkedIn Ads: the account comes from the OpenID `id_token`'s claims."""

from __future__ import annotations

from patchbay.providers import registry
from patchbay.providers.base import OAuthQuirks, Provider
from patchbay.providers.linkedin import simulator
from patchbay.providers.linkedin.resources import RESOURCES
from patchbay.providers.oauth_helpers import Exchange, jwt_claims


class LinkedInOAuth(OAuthQuirks):
    async def enrich(self, exchange: Exchange) -> None:
        claims = jwt_claims(exchange.secrets.get("id_token"))
        exchange.config["sub"] = claims.get("sub")
        exchange.config["email"] = claims.get("email")


PROVIDER = registry.register(
    Provider(
        name="linkedin",
        display_name="LinkedIn Ads",
        kinds=("linkedin-ads",),
        oauth=LinkedInOAuth(),
        resources=RESOURCES,
        simulators=(simulator,),
    )
)
