"""Tokens minted rather than refreshed (`providers.base.TokenMinter`; GitHub App installation
tokens): no refresh token, the platform's own credentials make a new one. Same rules as OAuth
refreshes otherwise: a new token once half the old one's lifetime has passed (PostHog re-mints at
half-life), one mint at a time per row (`refresh.refresh_integration`'s single flight and row
lock), failures counted with the same back-off and marked TOKEN_REFRESH_FAILED, health events."""

from __future__ import annotations

import logging
import time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from patchbay.integration.health import HEALTHY, REFRESH_DETAILS, set_health
from patchbay.kit.provider_errors import Failure, UpstreamError, health_after, refresh_failure
from patchbay.models import TOKEN_REFRESH_FAILED, Integration
from patchbay.oauth.metrics import count_refresh
from patchbay.providers.base import TokenMinter

log = logging.getLogger("patchbay.oauth.minting")

# How a minting failure is counted (the names of refresh's bookkeeping): a refusal counts towards
# the terminal streak (an uninstalled or suspended app does not come back by itself).
FAILURE_NAMES = {
    Failure.AUTH: "invalid_grant",
    Failure.PERMISSION: "invalid_grant",
    Failure.NOT_FOUND: "invalid_grant",
    Failure.RATE_LIMITED: "rate_limited",
    Failure.UNAVAILABLE: "http_5xx",
    Failure.UNREACHABLE: "network",
}


def mint_due(config: dict[str, Any], secrets: dict[str, Any], errors: str, now: float) -> bool:
    """No token yet, a failed one, or half its lifetime gone."""
    if not secrets.get("access_token") or errors == TOKEN_REFRESH_FAILED:
        return True
    try:
        expires_in = float(config["expires_in"])
        refreshed_at = float(config["refreshed_at"])
    except (KeyError, TypeError, ValueError):
        return True
    return now > refreshed_at + expires_in / 2


async def mint_locked(
    runtime: Any,
    session: AsyncSession,
    row: Integration,
    minter: TokenMinter,
    secrets: dict[str, Any],
    *,
    force: bool,
) -> Any:
    """Inside `refresh._refresh_under_lock`'s transaction, the row locked and read fresh."""
    from patchbay.oauth.refresh import BACKOFF_KEYS, FreshToken, in_backoff, record_failure

    config: dict[str, Any] = dict(row.config or {})
    errors = row.errors or ""
    now = time.time()
    if not force and not mint_due(config, secrets, errors, now):
        return FreshToken(row.kind, secrets, config, errors)  # another request minted meanwhile
    if not force and config.get("refresh_terminal"):
        return FreshToken(row.kind, secrets, config, errors, failure="terminal")
    if not force and in_backoff(config, now):
        return FreshToken(row.kind, secrets, config, errors, failure="backoff")
    try:
        minted = await minter.mint(runtime.settings, config, secrets)
    except UpstreamError as exc:
        failure = FAILURE_NAMES[exc.failure]
        row.config = record_failure(config, failure, time.time())
        row.errors = TOKEN_REFRESH_FAILED
        count_refresh(row.kind, failure)
        status = health_after(refresh_failure(failure), row.health_status)
        await set_health(session, row, status, detail=REFRESH_DETAILS[status], code=failure)
        log.warning(
            "token mint failed",
            extra={"kind": row.kind, "integration": row.id, "failure": failure, "reason": exc.reason},
        )
        return FreshToken(
            row.kind,
            secrets,
            dict(row.config),
            TOKEN_REFRESH_FAILED,
            failure=failure,
            retry_after=exc.retry_after,
        )
    new_config = {k: v for k, v in config.items() if k not in BACKOFF_KEYS}
    new_config.update(minted.config)
    new_secrets = {**secrets, **minted.sensitive_config}
    row.config = new_config
    row.sensitive_config = runtime.keyring.encrypt_json(new_secrets)
    row.errors = ""
    count_refresh(row.kind, "success")
    await set_health(session, row, HEALTHY)
    log.info("token minted", extra={"kind": row.kind, "integration": row.id})
    return FreshToken(row.kind, new_secrets, new_config, "", refreshed=True)
