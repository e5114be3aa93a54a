"""Atlassian Jira: the connected site is the first of the token's accessible resources."""

from __future__ import annotations

from patchbay.kit.errors import ValidationError
from patchbay.providers import registry
from patchbay.providers.base import OAuthQuirks, Provider
from patchbay.providers.jira import simulator
from patchbay.providers.jira.resources import RESOURCES
from patchbay.providers.oauth_helpers import Exchange, json_or_none

ACCESSIBLE_RESOURCES = "https://api.atlassian.com/oauth/token/accessible-resources"


class JiraOAuth(OAuthQuirks):
    async def enrich(self, exchange: Exchange) -> None:
        response = await exchange.client.get(exchange.url(ACCESSIBLE_RESOURCES), headers=exchange.bearer())
        sites = json_or_none(response) if response.status_code == 200 else None
        if not isinstance(sites, list) or not sites or not isinstance(sites[0], dict):
            raise ValidationError(
                "No accessible Jira sites found. Make sure your Atlassian account has access to a Jira "
                "site and try connecting again."
            )
        site = sites[0]
        exchange.config["cloud_id"] = site.get("id")
        exchange.config["site_name"] = site.get("name")
        exchange.config["site_url"] = site.get("url")


PROVIDER = registry.register(
    Provider(
        name="jira",
        display_name="Jira",
        kinds=("jira",),
        oauth=JiraOAuth(),
        resources=RESOURCES,
        simulators=(simulator,),
    )
)
