"""Slack: an OAuth kind of the catalogue (data), channel and member lists, its simulators."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from patchbay.config import Settings
from patchbay.kit.provider_errors import Failure, UpstreamError
from patchbay.providers import registry
from patchbay.providers.base import Provider
from patchbay.providers.slack import simulator_api, simulator_oauth
from patchbay.providers.slack.client import api_url, slack_client
from patchbay.providers.slack.resources import RESOURCES


class SlackProxy:
    refreshable = True  # bot tokens with rotation on expire and refresh
    user_host = False

    def base_url(self, settings: Settings, config: Mapping[str, Any]) -> str:
        return api_url(settings)

    def authorize(self, request: httpx.Request, config: Mapping[str, Any], secrets: Mapping[str, Any]) -> None:
        request.headers["Authorization"] = f"Bearer {secrets.get('access_token', '')}"


class SlackHealth:
    """auth.test: the cheapest Web API method, answered for any valid token."""

    async def check(self, settings: Settings, config: Mapping[str, Any], secrets: Mapping[str, Any]) -> None:
        token = secrets.get("access_token")
        if not isinstance(token, str) or not token:
            raise UpstreamError("slack", Failure.AUTH, "no access token")
        async with slack_client(settings, token, http_timeout=float(settings.http_timeout)) as client:
            await client.call("auth.test")


PROVIDER = registry.register(
    Provider(
        name="slack",
        display_name="Slack",
        kinds=("slack",),
        resources=RESOURCES,
        proxy=SlackProxy(),
        health=SlackHealth(),
        simulators=(simulator_api, simulator_oauth),
    )
)
