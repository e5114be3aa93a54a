"""Keeping OAuth tokens fresh: PostHog's half-life rule and failure bookkeeping, run exactly once
however many requests and processes want the same refresh at the same moment.

Public entry points (used by provider_resources and `patchbay serve`):

    await ensure_fresh_token(runtime, integration) -> FreshToken
        Call before every provider request made with an integration's token. Returns the
        (possibly just refreshed) secrets; raises a 400 asking to reconnect when the token is dead,
        502/503/429 when the provider failed transiently and the old token is already unusable.

    await refresh_due_integrations(runtime) -> int
        One pass of the background refresher: refreshes every row past its half-life, and every
        refreshable row whose token is a day old however long it lives (providers expire idle
        grants), that is not in backoff or terminal. Returns how many were refreshed.

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

from patchbay.activity.service import record_activity
from patchbay.integration.health import HEALTHY, REFRESH_DETAILS, set_health
from patchbay.kit.crypto import UndecryptableSecret
from patchbay.kit.errors import (
    NotFound,
    ProviderRateLimited,
    ProviderUnavailable,
    ProviderUnreachable,
    ValidationError,
)
from patchbay.kit.provider_errors import health_after, refresh_failure
from patchbay.models import TOKEN_REFRESH_FAILED, Integration
from patchbay.oauth import minting, repository
from patchbay.oauth.metrics import count_refresh
from patchbay.oauth.token_requests import refresh_with_fallback
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
# Every refreshable grant is refreshed at least this often, used or not: some providers expire a
# refresh token that has not been used for a while (Google after six months idle, others sooner).
IDLE_REFRESH_SECONDS = 24 * 3600

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


def idle_too_long(config: dict[str, Any], secrets: dict[str, Any], now: float) -> bool:
    """A refreshable token last issued a day or more ago (the background refresher's daily rule)."""
    if not secrets.get("refresh_token"):
        return False
    refreshed_at = config.get("refreshed_at")
    try:
        return refreshed_at is None or now - float(refreshed_at) >= IDLE_REFRESH_SECONDS
    except (TypeError, ValueError):
        return True


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
async def _refresh_under_lock(
    runtime: Any, pk: int, project_id: int, force: bool, daily: bool = False, min_validity: float = 0
) -> FreshToken:
    async with runtime.db.session() as session, session.begin():
        row = await repository.lock_integration(session, pk, project_id, sqlite=runtime.db.is_sqlite)
        if row is None:
            raise NotFound()
        provider = registry.oauth_provider(row.kind)
        config: dict[str, Any] = dict(row.config or {})
        now = time.time()
        try:
            secrets: dict[str, Any] = runtime.keyring.decrypt_json(row.sensitive_config)
        except UndecryptableSecret:
            if not config.get("refresh_terminal"):
                row.config = record_failure(config, "unreadable", now)
                row.errors = TOKEN_REFRESH_FAILED
                count_refresh(row.kind, "unreadable")
                await _record_failure_health(session, row, "unreadable")
            return FreshToken(row.kind, {}, dict(row.config), TOKEN_REFRESH_FAILED, failure="unreadable")
        current = FreshToken(row.kind, secrets, config, row.errors or "")
        minter = registry.token_minter(row.kind)
        if minter is not None:  # GitHub App installations: a new token, not a refresh grant
            return await minting.mint_locked(
                runtime, session, row, minter, secrets, force=force
            )
        if provider is None or not secrets.get("refresh_token"):
            return current
        # Re-read under the lock: another request or process may have refreshed meanwhile.
        due = wants_refresh(row.kind, config, secrets, row.errors or "", now, min_validity) or (
            daily and idle_too_long(config, secrets, now)
        )
        if not force and not due:
            return current
        if config.get("refresh_terminal"):
            return FreshToken(row.kind, secrets, config, row.errors or "", failure="terminal")
        if not force and in_backoff(config, now):
            return FreshToken(row.kind, secrets, config, row.errors or "", failure="backoff")

        started = time.monotonic()
        answer, used_fallback = await refresh_with_fallback(
            runtime.settings, provider, config, str(secrets["refresh_token"])
        )
        now = time.time()
        await record_activity(
            session,
            integration_id=row.id,
            team_id=row.project_id,
            action="refresh",
            outcome="success" if answer.ok else answer.failure or "other",
            status_code=answer.status,
            duration_ms=(time.monotonic() - started) * 1000,
        )
        if answer.ok:
            new_config, new_secrets = record_success(provider, config, secrets, answer.data, now)
            if used_fallback:
                new_config["oauth_uses_legacy_client"] = True
            else:
                new_config.pop("oauth_uses_legacy_client", None)
            row.config = new_config
            row.sensitive_config = runtime.keyring.encrypt_json(new_secrets)
            row.errors = ""
            count_refresh(row.kind, "success")
            await set_health(session, row, HEALTHY)
            log.info("oauth token refreshed", extra={"kind": row.kind, "integration": pk})
            return FreshToken(row.kind, new_secrets, new_config, "", refreshed=True)
        # A failed refresh touches only errors and the bookkeeping in config; secrets stay as they were.
        failure = answer.failure or "other"
        new_config = record_failure(config, failure, now)
        row.config = new_config
        row.errors = TOKEN_REFRESH_FAILED
        count_refresh(row.kind, failure)
        await _record_failure_health(session, row, failure)
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


async def _record_failure_health(session: Any, row: Integration, failure: str) -> None:
    """The health a failed refresh leaves (kit.provider_errors' taxonomy), with its event."""
    status = health_after(refresh_failure(failure), row.health_status)
    await set_health(session, row, status, detail=REFRESH_DETAILS[status], code=failure)


async def refresh_integration(
    runtime: Any,
    pk: int,
    project_id: int,
    *,
    force: bool = False,
    daily: bool = False,
    min_validity: float = 0,
) -> FreshToken:
    """Refresh one row now if it still needs it: single-flight in this process, row lock across
    processes, decision re-made on the row read under the lock. `daily` also counts a token issued
    a day ago as due (the background refresher's rule for idle grants); `min_validity` one that
    expires within that many seconds (the proxy's and credentials' 5 minutes)."""
    mode = "force" if force else "daily" if daily else "due"
    key = f"oauth-refresh:{pk}:{mode}:{min_validity:g}"
    result: FreshToken = await runtime.single_flight.run(
        key, lambda: _refresh_under_lock(runtime, pk, project_id, force, daily, min_validity)
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
    if registry.token_minter(integration.kind) is not None:
        return await _ensure_minted(runtime, integration, current)
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


async def _ensure_minted(runtime: Any, integration: Integration, current: FreshToken) -> FreshToken:
    """A minted-token kind's token: minted again (single-flight, row lock) once half-life passed."""
    if not minting.mint_due(current.config, current.secrets, current.errors, time.time()):
        return current
    result = await refresh_integration(runtime, integration.id, integration.project_id)
    if result.failure is None:
        return result
    # The platform refused (app uninstalled or suspended; or parked after such a refusal): it
    # revokes the installation's tokens too, so the old one is not handed out or sent again.
    refused = result.failure in {"invalid_grant", "terminal"} or bool(
        result.config.get("refresh_invalid_grant_count")
    )
    if not refused and result.access_token and not hard_expired(integration.kind, result.config, time.time()):
        return result  # a transient failure while the old token still works
    _raise_for(integration.kind, result)
    return result  # pragma: no cover - _raise_for always raises


# --- background refresher ----------------------------------------------------------------------------
async def refresh_due_integrations(runtime: Any) -> int:
    """Refresh every OAuth row past its half-life, failed and out of backoff, or holding a token
    issued a day ago (so idle grants stay alive). Returns the count."""
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
        due = wants_refresh(row.kind, config, secrets, row.errors or "", now)
        if not due and not idle_too_long(config, secrets, now):
            continue
        try:
            result = await refresh_integration(runtime, row.id, row.project_id, daily=not due)
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
