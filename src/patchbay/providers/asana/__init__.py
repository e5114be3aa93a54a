"""Asana, the worked example of `docs/ARCHITECTURE.md` ("How to add a provider"): an OAuth kind
whose catalogue entry lives here, one resource list (the workspaces the token can see), its health
check (one workspace) and the simulator the sandbox serves. Nothing outside this folder names Asana."""

from __future__ import annotations

from patchbay.providers import registry
from patchbay.providers.asana import simulator
from patchbay.providers.asana.resources import RESOURCES, AsanaHealth
from patchbay.providers.base import Provider
from patchbay.providers.catalog import OAuthProvider

OAUTH = OAuthProvider(
    kind="asana",
    # Asana's token answer carries the user: {"data": {"gid", "name", "email"}}.
    id_path="data.gid",
    name_path="data.email",
    authorize_url="https://app.asana.com/-/oauth_authorize",
    api_url="https://app.asana.com",
    token_url="https://app.asana.com/-/oauth_token",
    scope="workspaces:read users:read",
    pkce=True,
)

PROVIDER = registry.register(
    Provider(
        name="asana",
        display_name="Asana",
        kinds=("asana",),
        oauth_providers=(OAUTH,),
        resources=RESOURCES,
        health=AsanaHealth(),
        simulators=(simulator,),
    )
)
