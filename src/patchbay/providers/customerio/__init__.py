"""Customer.io: three credential kinds (PostHog's `customerio-app`, `customerio-track` and
`customerio-webhook`), health checks for the two that an API call can prove, and one simulator.
Each kind is its own Provider record: a credential kind's builder is found by kind."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from patchbay.config import Settings
from patchbay.kit.provider_errors import Failure, UpstreamError
from patchbay.providers import registry
from patchbay.providers.base import Provider
from patchbay.providers.customerio import simulator
from patchbay.providers.customerio.client import account_region, workspaces
from patchbay.providers.customerio.credentials import (
    CustomerIOAppCredentials,
    CustomerIOTrackCredentials,
    CustomerIOWebhookCredentials,
)


def _text(source: Mapping[str, Any], name: str) -> str:
    value = source.get(name)
    if not isinstance(value, str) or not value:
        raise UpstreamError("customerio", Failure.AUTH, "missing credentials")
    return value


class AppHealth:
    async def check(self, settings: Settings, config: Mapping[str, Any], secrets: Mapping[str, Any]) -> None:
        await workspaces(settings, str(config.get("region") or "us"), _text(secrets, "app_api_key"))


class TrackHealth:
    async def check(self, settings: Settings, config: Mapping[str, Any], secrets: Mapping[str, Any]) -> None:
        region = str(config.get("region") or "us")
        await account_region(settings, region, _text(secrets, "site_id"), _text(secrets, "api_key"))


APP = registry.register(
    Provider(
        name="customerio-app",
        display_name="Customer.io",
        kinds=("customerio-app",),
        credential_kind=CustomerIOAppCredentials(),
        health=AppHealth(),
        simulators=(simulator,),
    )
)
TRACK = registry.register(
    Provider(
        name="customerio-track",
        display_name="Customer.io Track",
        kinds=("customerio-track",),
        credential_kind=CustomerIOTrackCredentials(),
        health=TrackHealth(),
    )
)
WEBHOOK = registry.register(
    Provider(
        name="customerio-webhook",
        display_name="Customer.io webhooks",
        kinds=("customerio-webhook",),
        credential_kind=CustomerIOWebhookCredentials(),
    )
)
