"""Linear: an OAuth kind of the catalogue (data), its teams, its simulators."""

from __future__ import annotations

from patchbay.providers import registry
from patchbay.providers.base import Provider
from patchbay.providers.linear import simulator_api, simulator_oauth
from patchbay.providers.linear.resources import RESOURCES

PROVIDER = registry.register(
    Provider(
        name="linear",
        display_name="Linear",
        kinds=("linear",),
        resources=RESOURCES,
        simulators=(simulator_api, simulator_oauth),
    )
)
