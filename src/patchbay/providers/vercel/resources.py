"""Pushing a project's public token and the site URL to Vercel as environment secrets of a
marketplace resource (Vercel's "import resource" API), for one installation."""

from __future__ import annotations

from typing import Any

from patchbay.config import Settings
from patchbay.providers.base import EnvironmentTokens
from patchbay.providers.vercel.client import VercelClient

# Frameworks only expose a variable to browser bundles under their own prefix, so every secret is
# sent once per prefix (NEXT_PUBLIC_ first, as Vercel users of PostHog know it).
CLIENT_ENV_PREFIXES = ("NEXT_PUBLIC_", "VITE_", "NUXT_PUBLIC_", "PUBLIC_")
TOKEN_SECRET = "POSTHOG_PROJECT_TOKEN"
HOST_SECRET = "POSTHOG_HOST"
DEFAULT_PRODUCT_ID = "posthog"
ENVIRONMENTS = ("production", "preview", "development")


def build_secrets(tokens: EnvironmentTokens, site_url: str) -> list[dict[str, Any]]:
    """One token secret per prefix (production value, per-environment overrides) and the host."""
    overrides = {
        "production": tokens.production,
        "preview": tokens.preview,
        "development": tokens.development,
    }
    secrets: list[dict[str, Any]] = []
    for prefix in CLIENT_ENV_PREFIXES:
        secret: dict[str, Any] = {"name": f"{prefix}{TOKEN_SECRET}", "value": tokens.production}
        if len(set(overrides.values())) > 1:
            secret["environmentOverrides"] = dict(overrides)
        secrets.append(secret)
        secrets.append({"name": f"{prefix}{HOST_SECRET}", "value": site_url})
    return secrets


def product_id(settings: Settings) -> str:
    return settings.kind_setting("vercel", "PRODUCT_ID") or DEFAULT_PRODUCT_ID


async def push_resource(
    settings: Settings,
    *,
    access_token: str,
    installation_id: str,
    team_id: str | None,
    resource_id: str,
    name: str,
    tokens: EnvironmentTokens,
) -> None:
    """Raises UpstreamError (AUTH: credentials refused, NOT_FOUND: installation gone) / ProviderUnavailable / ProviderUnreachable /
    ProviderRateLimited; outages are retried inside the client first."""
    body = {
        "productId": product_id(settings),
        "name": name,
        "status": "ready",
        "ownership": "linked",
        "metadata": {},
        "secrets": build_secrets(tokens, settings.site_origin),
    }
    await VercelClient(settings).import_resource(
        access_token=access_token,
        installation_id=installation_id,
        resource_id=resource_id,
        team_id=team_id,
        body=body,
    )
