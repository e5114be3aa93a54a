"""eBay: an OAuth kind (authorization code grant, HTTP Basic at the token endpoint, the account from
the Commerce Identity API). PostHog lists `ebay` among its kinds without a way to create it; a user of
eBay connects it the way eBay's own apps do. eBay's `redirect_uri` is not a URL but the RuName of the
accept URL registered in the developer console (PATCHBAY_EBAY_RUNAME)."""

from __future__ import annotations

from patchbay.config import Settings
from patchbay.providers import registry
from patchbay.providers.base import OAuthQuirks, Provider
from patchbay.providers.catalog import OAuthProvider
from patchbay.providers.ebay import simulator

SCOPES = (
    "https://api.ebay.com/oauth/api_scope "
    "https://api.ebay.com/oauth/api_scope/commerce.identity.readonly"
)

OAUTH = OAuthProvider(
    kind="ebay",
    id_path="userId",
    name_path="username",
    authorize_url="https://auth.ebay.com/oauth2/authorize",
    api_url="https://api.ebay.com",
    token_url="https://api.ebay.com/identity/v1/oauth2/token",
    scope=SCOPES,
    token_auth="basic",
    # On apiz.ebay.com in production; rebased on PATCHBAY_EBAY_API_URL when that is set.
    token_info_url="https://apiz.ebay.com/commerce/identity/v1/user/",
    token_info_fields=("userId", "username"),
)


class EbayQuirks(OAuthQuirks):
    def redirect_uri(self, settings: Settings, default: str) -> str:
        return settings.kind_setting("ebay", "RUNAME") or default


PROVIDER = registry.register(
    Provider(
        name="ebay",
        display_name="eBay",
        kinds=("ebay",),
        oauth_providers=(OAUTH,),
        oauth=EbayQuirks(),
        simulators=(simulator,),
    )
)
