"""Revoke a deleted integration's token at the provider, for kinds that have a revoke URL.

Runs as the integration domain's delete hook (after the row is gone): best effort, short timeout,
never raises, never blocks or undoes the delete.
"""

from __future__ import annotations

import logging
from typing import Any

from patchbay.models import Integration
from patchbay.oauth.token_requests import request_revoke, revoke_url
from patchbay.providers import registry

log = logging.getLogger("patchbay.oauth.revoke")


async def revoke_on_delete(runtime: Any, integration_row: Integration, secrets: dict[str, Any]) -> None:
    provider = registry.oauth_provider(integration_row.kind)
    if provider is None or not provider.revoke_url:
        return
    token = secrets.get("refresh_token") or secrets.get("access_token")
    if not token:
        return
    try:
        url = revoke_url(runtime.settings, provider, dict(integration_row.config or {}))
        if not url:
            return
        status = await request_revoke(runtime.settings, url, str(token))
    except Exception:  # noqa: BLE001 - best effort by design
        log.warning("token revoke failed", extra={"kind": integration_row.kind})
        return
    log.info("token revoked", extra={"kind": integration_row.kind, "status": status})
