"""Anthropic: an API key (PostHog's `anthropic` kind), a health check, the proxy's headers and a
simulator."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from patchbay.config import Settings
from patchbay.kit.provider_errors import Failure, UpstreamError
from patchbay.providers import registry
from patchbay.providers.anthropic import simulator
from patchbay.providers.anthropic.client import API_VERSION, api_url, first_model
from patchbay.providers.anthropic.credentials import AnthropicCredentials
from patchbay.providers.base import Provider


def _key(secrets: Mapping[str, Any]) -> str:
    key = secrets.get("api_key")
    if not isinstance(key, str) or not key:
        raise UpstreamError("anthropic", Failure.AUTH, "missing credentials")
    return key


class AnthropicProxy:
    refreshable = False  # an API key, nothing to refresh
    user_host = False

    def base_url(self, settings: Settings, config: Mapping[str, Any]) -> str:
        return api_url(settings)

    def authorize(self, request: httpx.Request, config: Mapping[str, Any], secrets: Mapping[str, Any]) -> None:
        request.headers["x-api-key"] = _key(secrets)
        request.headers.setdefault("anthropic-version", API_VERSION)


class AnthropicHealth:
    async def check(self, settings: Settings, config: Mapping[str, Any], secrets: Mapping[str, Any]) -> None:
        await first_model(settings, _key(secrets))


PROVIDER = registry.register(
    Provider(
        name="anthropic",
        display_name="Anthropic",
        kinds=("anthropic",),
        credential_kind=AnthropicCredentials(),
        proxy=AnthropicProxy(),
        health=AnthropicHealth(),
        simulators=(simulator,),
    )
)
