"""Pinterest Ads: an OAuth kind of the catalogue; named by the business account when there is one."""

from __future__ import annotations

from typing import Any

from patchbay.providers import registry
from patchbay.providers.base import OAuthQuirks, Provider


class PinterestOAuth(OAuthQuirks):
    def display_name(self, integration_id: str | None, config: dict[str, Any]) -> str | None:
        return str(config.get("business_name") or config.get("username") or integration_id)


PROVIDER = registry.register(
    Provider(name="pinterest", display_name="Pinterest Ads", kinds=("pinterest-ads",), oauth=PinterestOAuth())
)
