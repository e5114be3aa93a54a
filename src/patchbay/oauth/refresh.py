"""Keeping OAuth tokens fresh: PostHog's half-life rule and failure bookkeeping, run exactly once
however many requests and processes want the same refresh at the same moment.

Public entry points (used by provider_resources and `patchbay serve`):

    await ensure_fresh_token(runtime, integration) -> FreshToken
        Call before every provider request made with an integration's token. Returns the
        (possibly just refreshed) secrets; raises a 400 asking to reconnect when the token is dead,
        502/503/429 when the provider failed transiently and the old token is already unusable.

    await refresh_due_integrations(runtime) -> int
        One pass of the background refresher: refreshes every row past its half-life that is not
        in backoff or terminal. Returns how many were refreshed.

    await run_background_refresher(runtime, interval=60.0, stop=None)
        The loop `patchbay serve` runs (unless disabled).
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from patchbay.integration.health import publish_health_change, status_of
from patchbay.kit.crypto import UndecryptableSecret
from patchbay.kit.errors import (
    NotFound,
    ProviderRateLimited,
    ProviderUnavailable,
    ProviderUnreachable,
    ValidationError,
)
from patchbay.models import TOKEN_REFRESH_FAILED, Integration
from patchbay.oauth import repository
from patchbay.oauth.token_requests import RefreshAnswer, request_refresh
from patchbay.providers import registry
from patchbay.providers.catalog import OAuthProvider

log = logging.getLogger("patchbay.oauth.refresh")

BACKOFF_KEYS = (
    "refresh_failure_count",
    "refresh_invalid_grant_count",
    "refresh_next_attempt_at",
    "refresh_terminal",
)
BACKOFF_BASE = 120
BACKOFF_CAP = 3600
TERMINAL_INVALID_GRANTS = 5
# A token this close to its real expiry is treated as expired.
EXPIRY_MARGIN = 30
STATE_RETENTION = timedelta(days=1)

RECONNECT = (
    "This integration's authentication token could not be refreshed. Please reconnect or disconnect "
    "this integration and connect a different account."
)


@dataclass(frozen=True)
class FreshToken:
    """What a provider call needs. `secrets` holds access_token/refresh_token/... (never log it)."""

    kind: str
    secrets: dict[str, Any]
    config: dict[str, Any]
    errors: str = ""
    refreshed: bool = False
    failure: str | None = None
    retry_after: int | None = field(default=None, compare=False)

    @property
    def access_token(self) -> str | None:
        value = self.secrets.get("access_token")
        return value if isinstance(value, str) else None


# --- the rules, as pure functions ------------------------------------------------------------------
def expires_in_of(provider: OAuthProvider | None, config: dict[str, Any]) -> int | None:
    value = config.get("expires_in")
    if value is None and provider is not None:
        value = provider.default_expires_in
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def access_token_expired(kind: str, config: dict[str, Any], secrets: dict[str, Any], now: float) -> bool:
    """PostHog's half-life rule: refresh once half of the token's lifetime has passed."""
    if not secrets.get("refresh_token"):
        return False
    expires_in = expires_in_of(registry.oauth_provider(kind), config)
    refreshed_at = config.get("refreshed_at")
    if not expires_in or refreshed_at is None:
        return False
    return now > float(refreshed_at) + expires_in - expires_in / 2


def hard_expired(kind: str, config: dict[str, Any], now: float) -> bool:
    """Past the real expiry (the old token no longer works)."""
    expires_in = expires_in_of(registry.oauth_provider(kind), config)
    refreshed_at = config.get("refreshed_at")
    if not expires_in or refreshed_at is None:
        return False
    return now > float(refreshed_at) + expires_in - EXPIRY_MARGIN


def expires_within(kind: str, config: dict[str, Any], now: float, seconds: float) -> bool:
    """The token's real expiry is less than `seconds` away (the proxy's and credentials' 5 minutes)."""
    expires_in = expires_in_of(registry.oauth_provider(kind), config)
    refreshed_at = config.get("refreshed_at")
    if not seconds or not expires_in or refreshed_at is None:
        return False
    return now > float(refreshed_at) + expires_in - seconds


def in_backoff(config: dict[str, Any], now: float) -> bool:
    next_at = config.get("refresh_next_attempt_at")
    return next_at is not None and float(next_at) > now


def wants_refresh(
    kind: str, config: dict[str, Any], secrets: dict[str, Any], errors: str, now: float, min_validity: float = 0
) -> bool:
    """`min_validity`: also refresh a token that expires within that many seconds."""
    if not secrets.get("refresh_token"):
        return False
    return (
        access_token_expired(kind, config, secrets, now)
        or errors == TOKEN_REFRESH_FAILED
        or expires_within(kind, config, now, min_validity)
    )


def record_failure(config: dict[str, Any], failure: str, now: float) -> dict[str, Any]:
    updated = dict(config)
    count = int(updated.get("refresh_failure_count") or 0) + 1
    updated["refresh_failure_count"] = count
    updated["refresh_next_attempt_at"] = int(now + min(BACKOFF_BASE * 2 ** (count - 1), BACKOFF_CAP))
    if failure == "unreadable":
        updated["refresh_terminal"] = True
    elif failure == "invalid_grant":
        if not updated.get("refresh_terminal"):
            streak = int(updated.get("refresh_invalid_grant_count") or 0) + 1
            updated["refresh_invalid_grant_count"] = streak
            if streak >= TERMINAL_INVALID_GRANTS:
                updated["refresh_terminal"] = True
    else:
        updated.pop("refresh_invalid_grant_count", None)
    return updated


def record_success(
    provider: OAuthProvider, config: dict[str, Any], secrets: dict[str, Any], data: dict[str, Any], now: float
) -> tuple[dict[str, Any], dict[str, Any]]:
    new_config = {k: v for k, v in config.items() if k not in BACKOFF_KEYS}
    expires_in = data.get("expires_in")
    if expires_in is None:
        expires_in = provider.default_expires_in
    new_config["expires_in"] = expires_in
    new_config["refreshed_at"] = int(now)
    new_secrets = dict(secrets)
    new_secrets["access_token"] = data["access_token"]
    for key in ("refresh_token", "id_token"):
        if data.get(key):  # rotation: a new refresh token replaces the old one
            new_secrets[key] = data[key]
    return new_config, new_secrets


# --- the refresh itself ------------------------------------------------------------------------------
async def _call_provider(
    runtime: Any, provider: OAuthProvider, config: dict[str, Any], refresh_token: str
) -> tuple[RefreshAnswer, bool]:
    """(answer, used the fallback client). A configured fallback client is tried when the primary fails."""
    settings = runtime.settings
    client_id = settings.kind_setting(provider.kind, "CLIENT_ID") or ""
    client_secret = settings.kind_setting(provider.kind, "CLIENT_SECRET") or ""
    answer = await request_refresh(settings, provider, config, refresh_token, client_id, client_secret)
    if answer.ok:
        return answer, False
    fb_id = settings.kind_setting(provider.kind, "FALLBACK_CLIENT_ID")
    fb_secret = settings.kind_setting(provider.kind, "FALLBACK_CLIENT_SECRET")
    if fb_id and fb_secret:
        retry = await request_refresh(settings, provider, config, refresh_token, fb_id, fb_secret)
        if retry.ok:
            return retry, True
    return answer, False


async def _refresh_under_lock(
    runtime: Any, pk: int, project_id: int, force: bool, min_validity: float = 0
) -> FreshToken:
    async with runtime.db.session() as session, session.begin():
        row = await repository.lock_integration(session, pk, project_id, sqlite=runtime.db.is_sqlite)
        if row is None:
            raise NotFound()
        provider = registry.oauth_provider(row.kind)
        config: dict[str, Any] = dict(row.config or {})
        health_before = status_of(row.errors, config)
        now = time.time()
        try:
            secrets: dict[str, Any] = runtime.keyring.decrypt_json(row.sensitive_config)
        except UndecryptableSecret:
            if not config.get("refresh_terminal"):
                row.config = record_failure(config, "unreadable", now)
                row.errors = TOKEN_REFRESH_FAILED
                await publish_health_change(session, row, health_before, "unreadable")
            return FreshToken(row.kind, {}, dict(row.config), TOKEN_REFRESH_FAILED, failure="unreadable")
        current = FreshToken(row.kind, secrets, config, row.errors or "")
        if provider is None or not secrets.get("refresh_token"):
            return current
        # Re-read under the lock: another request or process may have refreshed meanwhile.
        if not force and not wants_refresh(row.kind, config, secrets, row.errors or "", now, min_validity):
            return current
        if config.get("refresh_terminal"):
            return FreshToken(row.kind, secrets, config, row.errors or "", failure="terminal")
        if not force and in_backoff(config, now):
            return FreshToken(row.kind, secrets, config, row.errors or "", failure="backoff")

        answer, used_fallback = await _call_provider(runtime, provider, config, str(secrets["refresh_token"]))
        now = time.time()
        if answer.ok:
            new_config, new_secrets = record_success(provider, config, secrets, answer.data, now)
            if used_fallback:
                new_config["oauth_uses_legacy_client"] = True
            else:
                new_config.pop("oauth_uses_legacy_client", None)
            row.config = new_config
            row.sensitive_config = runtime.keyring.encrypt_json(new_secrets)
            row.errors = ""
            await publish_health_change(session, row, health_before)
            log.info("oauth token refreshed", extra={"kind": row.kind, "integration": pk})
            return FreshToken(row.kind, new_secrets, new_config, "", refreshed=True)
        # A failed refresh touches only errors and the bookkeeping in config; secrets stay as they were.
        failure = answer.failure or "other"
        new_config = record_failure(config, failure, now)
        row.config = new_config
        row.errors = TOKEN_REFRESH_FAILED
        await publish_health_change(session, row, health_before, failure)
        log.warning(
            "oauth token refresh failed",
            extra={"kind": row.kind, "integration": pk, "failure": failure, "status": answer.status},
        )
        return FreshToken(
            row.kind,
            secrets,
            new_config,
            TOKEN_REFRESH_FAILED,
            failure=failure,
            retry_after=answer.retry_after,
        )


async def refresh_integration(
    runtime: Any, pk: int, project_id: int, *, force: bool = False, min_validity: float = 0
) -> FreshToken:
    """Refresh one row now if it still needs it: single-flight in this process, row lock across
    processes, decision re-made on the row read under the lock."""
    key = f"oauth-refresh:{pk}:{'force' if force else 'due'}:{min_validity:g}"
    result: FreshToken = await runtime.single_flight.run(
        key, lambda: _refresh_under_lock(runtime, pk, project_id, force, min_validity)
    )
    return result


def _raise_for(kind: str, result: FreshToken) -> None:
    failure = result.failure
    if failure == "http_5xx":
        raise ProviderUnavailable(
            f"{kind} could not refresh this integration's token. Please try again later."
        )
    if failure == "network":
        raise ProviderUnreachable(
            f"{kind} did not respond in time while refreshing this integration's token."
        )
    if failure == "rate_limited":
        raise ProviderRateLimited(kind, result.retry_after)
    raise ValidationError(RECONNECT)


async def ensure_fresh_token(runtime: Any, integration: Integration, *, min_validity: float = 0) -> FreshToken:
    """The token to call the provider with, refreshed first when PostHog's rules say so (or when it
    expires within `min_validity` seconds: the proxy and the credentials route ask for 5 minutes).

    `integration` is a row the caller read through its tenant-filtered repository. Non-OAuth kinds
    get their secrets back untouched. Raises ValidationError (400, "…could not be refreshed. Please
    reconnect…") for a dead token, ProviderUnavailable/ProviderUnreachable/ProviderRateLimited when
    a transient provider failure left no usable token.
    """
    try:
        secrets = runtime.keyring.decrypt_json(integration.sensitive_config)
    except UndecryptableSecret as exc:
        raise ValidationError(str(exc)) from None
    config = dict(integration.config or {})
    errors = integration.errors or ""
    current = FreshToken(integration.kind, secrets, config, errors)
    if registry.oauth_provider(integration.kind) is None:
        return current
    if not secrets.get("refresh_token"):
        if errors == TOKEN_REFRESH_FAILED:
            raise ValidationError(RECONNECT)
        return current
    now = time.time()
    if not wants_refresh(integration.kind, config, secrets, errors, now, min_validity):
        return current
    parked = config.get("refresh_terminal") or in_backoff(config, now)
    if parked and not hard_expired(integration.kind, config, now):
        return current  # the old token still works; the background refresher retries later
    result = await refresh_integration(
        runtime, integration.id, integration.project_id, min_validity=min_validity
    )
    if result.failure is None:
        return result
    if result.access_token and not hard_expired(integration.kind, result.config, time.time()):
        return result
    _raise_for(integration.kind, result)
    return result  # pragma: no cover - _raise_for always raises


# --- background refresher ----------------------------------------------------------------------------
async def refresh_due_integrations(runtime: Any) -> int:
    """Refresh every OAuth row past its half-life (or failed and out of backoff). Returns the count."""
    async with runtime.db.transaction() as session:
        # Spent and abandoned OAuth attempts are kept a day (for support), then dropped.
        await repository.OAuthStateRepository(session).purge_expired(datetime.now(UTC) - STATE_RETENTION)
    async with runtime.db.session() as session:
        rows = await repository.refresh_candidates(session, list(registry.oauth_providers()))
    now = time.time()
    refreshed = 0
    for row in rows:
        config = dict(row.config or {})
        if config.get("refresh_terminal") or in_backoff(config, now):
            continue
        try:
            secrets = runtime.keyring.decrypt_json(row.sensitive_config)
        except UndecryptableSecret:
            secrets = {"refresh_token": "?"}  # let the locked path mark it terminal
        if not wants_refresh(row.kind, config, secrets, row.errors or "", now):
            continue
        try:
            result = await refresh_integration(runtime, row.id, row.project_id)
        except Exception:  # noqa: BLE001 - one bad row never stops the pass
            log.exception("background refresh failed", extra={"integration": row.id})
            continue
        if result.refreshed:
            refreshed += 1
    return refreshed


async def run_background_refresher(
    runtime: Any, *, interval: float = 60.0, stop: asyncio.Event | None = None
) -> None:
    """Loop forever (or until `stop` is set), one pass per `interval` seconds."""
    stop = stop or asyncio.Event()
    while not stop.is_set():
        try:
            await refresh_due_integrations(runtime)
        except Exception:  # noqa: BLE001 - the loop must survive a database hiccup
            log.exception("background refresher pass failed")
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval)
        except TimeoutError:
            pass
