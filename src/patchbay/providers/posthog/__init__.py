"""PostHog: an instance (cloud or self-hosted) and a personal API key; a health check and a
simulator."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from patchbay.config import Settings
from patchbay.kit.provider_errors import Failure, UpstreamError
from patchbay.providers import registry
from patchbay.providers.base import Provider
from patchbay.providers.posthog import simulator
from patchbay.providers.posthog.client import HostNotAllowed, current_user, stored_instance
from patchbay.providers.posthog.credentials import PostHogCredentials


class PostHogHealth:
    """The key's user, read again (its host guarded again, unless it is the operator's default)."""

    async def check(self, settings: Settings, config: Mapping[str, Any], secrets: Mapping[str, Any]) -> None:
        host, key = config.get("host"), secrets.get("personal_api_key")
        if not isinstance(host, str) or not isinstance(key, str) or not host or not key:
            raise UpstreamError("posthog", Failure.AUTH, "missing credentials")
        try:
            await current_user(settings, stored_instance(settings, host), key)
        except HostNotAllowed:
            raise UpstreamError("posthog", Failure.UNREACHABLE, "host refused by the address guard") from None


PROVIDER = registry.register(
    Provider(
        name="posthog",
        display_name="PostHog",
        kinds=("posthog",),
        credential_kind=PostHogCredentials(),
        health=PostHogHealth(),
        simulators=(simulator,),
    )
)
