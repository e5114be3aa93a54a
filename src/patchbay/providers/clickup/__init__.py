"""ClickUp: an OAuth kind of the catalogue (data), the workspace/space/list hierarchy, its simulators."""

from __future__ import annotations

from patchbay.providers import registry
from patchbay.providers.base import Provider
from patchbay.providers.clickup import simulator_api, simulator_oauth
from patchbay.providers.clickup.resources import RESOURCES

PROVIDER = registry.register(
    Provider(
        name="clickup",
        display_name="ClickUp",
        kinds=("clickup",),
        resources=RESOURCES,
        simulators=(simulator_api, simulator_oauth),
    )
)
