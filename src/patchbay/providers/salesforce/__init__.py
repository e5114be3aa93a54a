"""Salesforce and Pardot: refresh and revoke go to the org's own instance when it is a trusted
Salesforce host, else to the login host. The proxy calls that instance too (the catalogue's
`{instance_url}` base); Pardot's proxy base is its own API host."""

from __future__ import annotations

from typing import Any

from patchbay.providers import registry
from patchbay.providers.base import OAuthQuirks, Provider
from patchbay.providers.bearer_proxy import trusted_https_origin
from patchbay.providers.catalog import FALLBACK_PROVIDERS, SALESFORCE_HOSTS, OAuthProvider
from patchbay.providers.salesforce import simulator


def trusted_instance(instance_url: Any) -> str | None:
    if not isinstance(instance_url, str) or not instance_url:
        return None
    return trusted_https_origin(instance_url, SALESFORCE_HOSTS)


def refresh_token_url(provider: OAuthProvider, settings: Any, config: dict[str, Any]) -> str:
    instance = trusted_instance(config.get("instance_url"))
    if instance:
        return f"{instance}/services/oauth2/token"
    return provider.resolve_token_url(settings)


def revoke_url(provider: OAuthProvider, settings: Any, config: dict[str, Any]) -> str | None:
    instance = trusted_instance(config.get("instance_url"))
    if instance:
        return f"{instance}/services/oauth2/revoke"
    return provider.resolve(settings, provider.revoke_url) if provider.revoke_url else None


class SalesforceOAuth(OAuthQuirks):
    def refresh_token_url(self, provider: OAuthProvider, settings: Any, config: dict[str, Any]) -> str:
        url = refresh_token_url(provider, settings, config)
        # An org connected through the sandbox login host refreshes there too.
        if config.get("sandbox") and provider.fallback_kind and url == provider.resolve_token_url(settings):
            return FALLBACK_PROVIDERS[provider.fallback_kind].resolve_token_url(settings)
        return url

    def revoke_url(self, provider: OAuthProvider, settings: Any, config: dict[str, Any]) -> str | None:
        return revoke_url(provider, settings, config)


PROVIDER = registry.register(
    Provider(
        name="salesforce", display_name="Salesforce", kinds=("salesforce", "pardot"), oauth=SalesforceOAuth(), simulators=(simulator,)
    )
)
