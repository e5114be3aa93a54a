"""HubSpot: answers a dead refresh token with {"status": "BAD_REFRESH_TOKEN"} (or BAD_HUB)."""

from __future__ import annotations

from typing import Any

from patchbay.providers import registry
from patchbay.providers.base import OAuthQuirks, Provider
from patchbay.providers.hubspot import simulator


class HubSpotOAuth(OAuthQuirks):
    def classify_refresh_error(self, status: int, body: Any) -> str | None:
        if status < 500 and isinstance(body, dict) and body.get("status") in {"BAD_HUB", "BAD_REFRESH_TOKEN"}:
            return "invalid_grant"
        return None


PROVIDER = registry.register(
    Provider(name="hubspot", display_name="HubSpot", kinds=("hubspot",), oauth=HubSpotOAuth(), simulators=(simulator,))
)
