"""The credentials a call is made with: an OAuth token is refreshed first when it expires within 5
minutes (the one single-flight refresh of patchbay.oauth.refresh), and again after a 401."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from patchbay.kit.crypto import UndecryptableSecret
from patchbay.kit.errors import ValidationError
from patchbay.models import Integration
from patchbay.oauth.refresh import RECONNECT, ensure_fresh_token, refresh_integration
from patchbay.providers import registry
from patchbay.runtime import Runtime

EXPIRING_SOON = 300.0  # seconds: a token closer than this to its expiry is refreshed first


@dataclass(frozen=True)
class Credentials:
    config: dict[str, Any]
    secrets: dict[str, Any]
    refreshable: bool  # an OAuth token with a refresh token: a 401 may be cured by a refresh


def is_oauth(kind: str) -> bool:
    """A token Patchbay keeps fresh: an OAuth grant, or one minted by the platform (GitHub App)."""
    return registry.oauth_provider(kind) is not None or registry.token_minter(kind) is not None


async def current(runtime: Runtime, row: Integration) -> Credentials:
    """The row's credentials, refreshed first when needed (errors as refresh.py raises them)."""
    if not is_oauth(row.kind):
        try:
            secrets = runtime.keyring.decrypt_json(row.sensitive_config)
        except UndecryptableSecret as exc:
            raise ValidationError(str(exc)) from None
        return Credentials(dict(row.config or {}), secrets, refreshable=False)
    fresh = await ensure_fresh_token(runtime, row, min_validity=EXPIRING_SOON)
    minted = registry.token_minter(row.kind) is not None
    return Credentials(
        fresh.config, fresh.secrets, refreshable=minted or bool(fresh.secrets.get("refresh_token"))
    )


async def after_unauthorized(runtime: Runtime, row: Integration) -> Credentials:
    """One forced refresh after the provider refused the token; ValidationError when it failed."""
    result = await refresh_integration(runtime, row.id, row.project_id, force=True)
    if not result.refreshed:
        raise ValidationError(RECONNECT)
    return Credentials(result.config, result.secrets, refreshable=True)
