"""Rules every provider-resource route shares: which integration, which token, what is cached and
for how long, and how a provider failure reaches the caller. The routes themselves belong to the
providers (`ResourceLister` in `providers.base`); each runs with a `IntegrationResources` session."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn, TypeVar

from patchbay.config import Settings
from patchbay.integration import events
from patchbay.integration import service as integrations
from patchbay.integration.health import REAUTHORIZATION_REQUIRED, set_health
from patchbay.kit.errors import APIError, Throttled, ValidationError
from patchbay.kit.provider_errors import AUTH_INVALID_DETAIL, Failure, UpstreamError
from patchbay.models import TOKEN_REFRESH_FAILED, Integration
from patchbay.oauth.refresh import FreshToken, ensure_fresh_token
from patchbay.provider_resources.failures import marks_integration, to_api_error
from patchbay.providers import registry
from patchbay.runtime import Runtime
from patchbay.tenancy.context import ProjectContext

log = logging.getLogger("patchbay.provider_resources")

T = TypeVar("T")

CACHE_PREFIX = "provider-resources"
BUDGET_PREFIX = "provider-budget"
LIST_CACHE_SECONDS = 60 * 60
LOOKUPS_PER_MINUTE = 30
FILL_CLAIM_SECONDS = 60
FILL_WAIT_SECONDS = 3.0
FILL_POLL_SECONDS = 0.1


# --- cache ---------------------------------------------------------------------------------------
def cache_key(integration_pk: int, *parts: str) -> str:
    """Every entry of an integration lives under `provider-resources:{pk}:` (dropped together)."""
    return f"{CACHE_PREFIX}:{integration_pk}:" + ":".join(parts)


async def drop_integration_cache(runtime: Runtime, integration_pk: int) -> None:
    """Forget everything cached for one integration (deleted, reconnected or re-saved)."""
    await runtime.cache.delete_prefix(f"{CACHE_PREFIX}:{integration_pk}:")


@events.on_integration_deleted
async def _drop_on_delete(runtime: Runtime, row: Integration, _secrets: dict[str, Any]) -> None:
    await drop_integration_cache(runtime, row.id)


@events.on_integration_saved
async def _drop_on_save(runtime: Runtime, pk: int) -> None:
    await drop_integration_cache(runtime, pk)


async def _remaining_ttl(runtime: Runtime, key: str, default: float) -> float:
    ttl = getattr(runtime.cache, "ttl", None)
    if ttl is None:
        return default
    remaining = float(await ttl(key))
    return remaining if remaining > 0 else default


async def _cached_fill(
    runtime: Runtime,
    key: str,
    fill: Callable[[], Awaitable[dict[str, Any]]],
    *,
    force: bool,
    ttl: float = LIST_CACHE_SECONDS,
) -> dict[str, Any]:
    """Serve `key` from the cache or fill it. Concurrent fills in one process share one fetch
    (single-flight); across processes a short-lived claim in the cache lets one of them fetch while
    the others wait for its result (a cold-cache burst costs the provider one listing, not N)."""
    current = await runtime.cache.get(key)
    if isinstance(current, dict) and not force:
        return current

    async def run() -> dict[str, Any]:
        claim = f"{key}:filling"
        claimed = await runtime.cache.incr(claim, FILL_CLAIM_SECONDS) == 1
        if not claimed:
            if isinstance(current, dict):
                return current  # someone else is refreshing: serve the list we have
            deadline = time.monotonic() + FILL_WAIT_SECONDS
            while time.monotonic() < deadline:
                await asyncio.sleep(FILL_POLL_SECONDS)
                waited = await runtime.cache.get(key)
                if isinstance(waited, dict):
                    return waited
            # The claimant never delivered (it failed or died): fetch ourselves.
        try:
            data = await fill()
            await runtime.cache.set(key, data, ttl)
            return data
        finally:
            if claimed:
                await runtime.cache.delete(claim)

    return await runtime.single_flight.run(f"{key}:{'force' if force else 'fill'}", run)


# --- the session a resource route runs with --------------------------------------------------------
class IntegrationResources:
    """One integration of the caller's project, as `providers.base.ResourceSession` describes."""

    def __init__(self, ctx: ProjectContext, row: Integration) -> None:
        self.ctx = ctx
        self.row = row
        self._fresh: FreshToken | None = None

    @property
    def kind(self) -> str:
        return self.row.kind

    @property
    def pk(self) -> int:
        return self.row.id

    @property
    def integration_id(self) -> str | None:
        return self.row.integration_id

    @property
    def config(self) -> dict[str, Any]:
        return self.row.config if isinstance(self.row.config, dict) else {}

    @property
    def created_by_id(self) -> int | None:
        return self.row.created_by_id

    @property
    def user_id(self) -> int:
        return self.ctx.user.id

    @property
    def browser_session(self) -> bool:
        # PostHog's newest rule: a person pressing "refresh" may bypass a list cache; API keys
        # read through it, whatever force_refresh says.
        return self.ctx.subject.browser_session

    @property
    def settings(self) -> Settings:
        return self.ctx.runtime.settings

    @property
    def http_timeout(self) -> float:
        return float(self.settings.http_timeout)

    async def _token(self) -> FreshToken:
        try:
            return await ensure_fresh_token(self.ctx.runtime, self.row)
        except ValidationError:
            lister = registry.resource_lister(self.kind)
            if lister is not None and lister.refresh_failure_is_auth:
                raise to_api_error(UpstreamError(self.kind, Failure.AUTH, "token refresh failed")) from None
            raise

    async def access_token(self) -> str:
        token = (await self._token()).access_token
        if not token:
            raise to_api_error(UpstreamError(self.kind, Failure.AUTH, "no access token"))
        return token

    async def secrets(self) -> dict[str, Any]:
        return (await self._token()).secrets

    def cache_key(self, *parts: str) -> str:
        return cache_key(self.row.id, *parts)

    async def cache_get(self, key: str) -> Any:
        return await self.ctx.runtime.cache.get(key)

    async def cache_set(self, key: str, value: Any, ttl: float | None = None) -> None:
        await self.ctx.runtime.cache.set(key, value, ttl if ttl is not None else LIST_CACHE_SECONDS)

    async def remaining_ttl(self, key: str) -> float:
        return await _remaining_ttl(self.ctx.runtime, key, LIST_CACHE_SECONDS)

    async def cached(
        self,
        key: str,
        fill: Callable[[], Awaitable[dict[str, Any]]],
        *,
        force: bool,
        ttl: float | None = None,
    ) -> dict[str, Any]:
        return await _cached_fill(
            self.ctx.runtime, key, fill, force=force, ttl=ttl if ttl is not None else LIST_CACHE_SECONDS
        )

    async def cached_list(
        self,
        key: str,
        field: str,
        fetch: Callable[[], Awaitable[list[dict[str, Any]]]],
        *,
        action: str,
        force_refresh: bool,
    ) -> dict[str, Any]:
        async def fill() -> dict[str, Any]:
            return {field: await self.call(fetch, action=action)}

        return await self.cached(key, fill, force=force_refresh and self.browser_session)

    async def spend_lookup_budget(self, name: str, detail: str) -> None:
        """One unit of a per-integration, per-minute budget for uncached by-id lookups (hits and
        misses alike: a loop over made-up ids must not drain the workspace's provider quota)."""
        runtime = self.ctx.runtime
        key = f"{BUDGET_PREFIX}:{self.row.id}:{name}"
        used = await runtime.cache.incr(key, 60)
        if used > LOOKUPS_PER_MINUTE:
            wait = await _remaining_ttl(runtime, key, 60)
            raise Throttled(int(wait) + 1, detail=detail)

    def api_error(self, error: UpstreamError, *, action: str = "") -> APIError:
        return to_api_error(error, action=action or "read this resource")

    async def fail(self, error: UpstreamError, *, action: str = "") -> NoReturn:
        """Record what PostHog records, log the classified failure (never a secret), raise the envelope."""
        row = self.row
        log.warning(
            "provider read failed",
            extra={"kind": row.kind, "integration": row.id, "failure": error.failure.value, "reason": error.reason},
        )
        marks = marks_integration(row.kind, error.failure) and row.errors != TOKEN_REFRESH_FAILED
        # The shared taxonomy: a refused token means a person must reconnect, whatever the kind; a
        # transient failure of one list says nothing about the connection and changes nothing.
        refused = error.failure is Failure.AUTH and row.health_status != REAUTHORIZATION_REQUIRED
        if marks or refused:
            # Only `errors` and the health change: config, secrets and cached lists stay as they were.
            if marks:
                row.errors = TOKEN_REFRESH_FAILED
            if refused:
                await set_health(
                    self.ctx.session,
                    row,
                    REAUTHORIZATION_REQUIRED,
                    detail=AUTH_INVALID_DETAIL,
                    code=error.provider_code or error.failure.value,
                )
            await self.ctx.session.commit()
        raise self.api_error(error, action=action)

    async def call(self, fetch: Callable[[], Awaitable[T]], *, action: str = "") -> T:
        try:
            return await fetch()
        except UpstreamError as exc:
            await self.fail(exc, action=action)


async def open_resources(ctx: ProjectContext, pk: int) -> IntegrationResources:
    row = await integrations.get_integration_model(ctx, pk)
    # End the read transaction before any provider call: nothing is held open while we wait.
    await ctx.session.commit()
    return IntegrationResources(ctx, row)
