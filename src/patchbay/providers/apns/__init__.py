"""Apple Push Notification service: an auth key (.p8) for one app (PostHog's `apns` kind), a health
check and a simulator."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from patchbay.config import Settings
from patchbay.kit.provider_errors import Failure, UpstreamError
from patchbay.providers import registry
from patchbay.providers.apns import simulator
from patchbay.providers.apns.client import BadKey, load_key, probe, provider_token
from patchbay.providers.apns.credentials import ApnsCredentials
from patchbay.providers.base import Provider


class ApnsHealth:
    """The probe push again, with a freshly signed provider token."""

    async def check(self, settings: Settings, config: Mapping[str, Any], secrets: Mapping[str, Any]) -> None:
        pem, key_id, team, bundle = (
            secrets.get("signing_key"), config.get("key_id"), config.get("team_id"), config.get("bundle_id")
        )
        if not all(isinstance(v, str) and v for v in (pem, key_id, team, bundle)):
            raise UpstreamError("apns", Failure.AUTH, "missing credentials")
        try:
            key = load_key(str(pem))
        except BadKey:
            raise UpstreamError("apns", Failure.AUTH, "unreadable key") from None
        verdict = await probe(
            settings, str(config.get("environment") or "production"), provider_token(key, str(key_id), str(team)), str(bundle)
        )
        if verdict.reason is not None:
            raise UpstreamError("apns", Failure.AUTH, verdict.reason, provider_code=verdict.reason)


PROVIDER = registry.register(
    Provider(
        name="apns",
        display_name="Apple Push",
        kinds=("apns",),
        credential_kind=ApnsCredentials(),
        health=ApnsHealth(),
        simulators=(simulator,),
    )
)
