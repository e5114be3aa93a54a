"""GitHub, connected as PostHog does: a GitHub App installation (not a user's OAuth token). The app
installs from its install page; its JWT reads the installation and mints hour-long installation
tokens, minted again on demand; `github_repos` lists what the installation reaches; the proxy and
credentials routes use the current installation token as a bearer."""

from __future__ import annotations

from patchbay.providers import registry
from patchbay.providers.base import Provider
from patchbay.providers.github import simulator
from patchbay.providers.github.install import GitHubHealth, GitHubInstall, GitHubProxy, GitHubTokens
from patchbay.providers.github.resources import RESOURCES

PROVIDER = registry.register(
    Provider(
        name="github",
        display_name="GitHub",
        kinds=("github",),
        app_install=GitHubInstall(),
        token_minter=GitHubTokens(),
        resources=RESOURCES,
        proxy=GitHubProxy(),
        health=GitHubHealth(),
        simulators=(simulator,),
    )
)
