"""Google Ads: an OAuth kind of the catalogue (Google's consent page and tokens) with the resource
lists PostHog offers for it: the accessible accounts and an account's conversion actions."""

from __future__ import annotations

from patchbay.providers import registry
from patchbay.providers.base import Provider
from patchbay.providers.google_ads import simulator
from patchbay.providers.google_ads.resources import RESOURCES

PROVIDER = registry.register(
    Provider(
        name="google_ads",
        display_name="Google Ads",
        kinds=("google-ads",),
        resources=RESOURCES,
        simulators=(simulator,),
    )
)
