"""Rules of the provider-resource routes: which integration, which token, what is cached and for how
long, and how a provider failure reaches the caller (through `failures.to_api_error`)."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, NoReturn, TypeVar

from rapidfuzz import fuzz, process, utils

from patchbay.integration import events
from patchbay.integration import service as integrations
from patchbay.kit.errors import Throttled, ValidationError
from patchbay.models import TOKEN_REFRESH_FAILED, Integration
from patchbay.oauth.refresh import FreshToken, ensure_fresh_token
from patchbay.provider_resources.clickup import ClickUpClient, clickup_http
from patchbay.provider_resources.failures import Failure, UpstreamError, marks_integration, to_api_error
from patchbay.provider_resources.linear import LinearClient, linear_http
from patchbay.provider_resources.slack import slack_client
from patchbay.provider_resources.twilio import TwilioClient, twilio_http
from patchbay.runtime import Runtime
from patchbay.tenancy.context import ProjectContext

log = logging.getLogger("patchbay.provider_resources")

T = TypeVar("T")

CACHE_PREFIX = "provider-resources"
BUDGET_PREFIX = "provider-budget"
LIST_CACHE_SECONDS = 60 * 60
LOOKUPS_PER_MINUTE = 30
USERS_MIN_REFRESH_SECONDS = 30
FILL_CLAIM_SECONDS = 60
FILL_WAIT_SECONDS = 3.0
FILL_POLL_SECONDS = 0.1
SEARCH_SCORE_CUTOFF = 70.0
# Slack and ClickUp ids are short alphanumeric strings; anything else is never sent upstream.
PROVIDER_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

MISSING_AUTHED_USER = "SlackIntegration: Missing authed_user_id in integration config"


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
async def _drop_on_save(runtime: Runtime, row: Integration) -> None:
    await drop_integration_cache(runtime, row.id)


async def _remaining_ttl(runtime: Runtime, key: str, default: float) -> float:
    ttl = getattr(runtime.cache, "ttl", None)
    if ttl is None:
        return default
    remaining = float(await ttl(key))
    return remaining if remaining > 0 else default


async def _spend_lookup_budget(runtime: Runtime, integration_pk: int, name: str, detail: str) -> None:
    """One unit of a per-integration, per-minute budget for uncached by-id lookups (hits and misses
    alike: a loop over made-up ids must not drain the workspace's provider quota)."""
    key = f"{BUDGET_PREFIX}:{integration_pk}:{name}"
    used = await runtime.cache.incr(key, 60)
    if used > LOOKUPS_PER_MINUTE:
        wait = await _remaining_ttl(runtime, key, 60)
        raise Throttled(int(wait) + 1, detail=detail)


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


async def _cached_fill(
    runtime: Runtime, key: str, fill: Callable[[], Awaitable[dict[str, Any]]], *, force: bool
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
            await runtime.cache.set(key, data, LIST_CACHE_SECONDS)
            return data
        finally:
            if claimed:
                await runtime.cache.delete(claim)

    return await runtime.single_flight.run(f"{key}:{'force' if force else 'fill'}", run)


# --- integration, token, failures ------------------------------------------------------------------
async def _integration(ctx: ProjectContext, pk: int) -> Integration:
    row = await integrations.get_integration_model(ctx, pk)
    # End the read transaction before any provider call: nothing is held open while we wait.
    await ctx.session.commit()
    return row


def _require_kind(row: Integration, kind: str, message: str, *, attr: str | None = None) -> None:
    if row.kind != kind:
        raise ValidationError(message, attr=attr)


async def _token(ctx: ProjectContext, row: Integration) -> FreshToken:
    try:
        return await ensure_fresh_token(ctx.runtime, row)
    except ValidationError:
        if row.kind == "slack":
            raise to_api_error(UpstreamError("slack", Failure.AUTH, "token refresh failed")) from None
        raise


def _access_token(row: Integration, fresh: FreshToken) -> str:
    token = fresh.access_token
    if not token:
        raise to_api_error(UpstreamError(row.kind, Failure.AUTH, "no access token"))
    return token


async def _fail(ctx: ProjectContext, row: Integration, exc: UpstreamError, *, action: str = "") -> NoReturn:
    """Record what PostHog records, log the classified failure (never a secret), raise the envelope."""
    log.warning(
        "provider read failed",
        extra={"kind": row.kind, "integration": row.id, "failure": exc.failure.value, "reason": exc.reason},
    )
    if marks_integration(row.kind, exc.failure) and row.errors != TOKEN_REFRESH_FAILED:
        # Only `errors` changes: config, secrets and cached lists stay as they were.
        await integrations.repository(ctx).update_fields(row.id, errors=TOKEN_REFRESH_FAILED)
        await ctx.session.commit()
    raise to_api_error(exc, action=action or "read this resource")


async def _call(
    ctx: ProjectContext, row: Integration, call: Callable[[], Awaitable[T]], *, action: str = ""
) -> T:
    try:
        return await call()
    except UpstreamError as exc:
        await _fail(ctx, row, exc, action=action)


def _timeout(ctx: ProjectContext) -> float:
    return float(ctx.runtime.settings.http_timeout)


# --- search --------------------------------------------------------------------------------------
def fuzzy_search(
    items: list[dict[str, Any]], query: str, key: Callable[[dict[str, Any]], str]
) -> list[dict[str, Any]]:
    """Typo-tolerant ranking on `key` (best first, ties in input order), then every item whose id
    contains the query, so a pasted id still resolves."""
    query = query.strip()
    if not query:
        return items
    matches = process.extract(
        query,
        [key(item) for item in items],
        scorer=fuzz.WRatio,
        processor=utils.default_process,
        score_cutoff=SEARCH_SCORE_CUTOFF,
        limit=None,
    )
    ranked = [items[index] for _, _, index in matches]
    seen = {item["id"] for item in ranked}
    lowered = query.lower()
    return ranked + [item for item in items if lowered in item["id"].lower() and item["id"] not in seen]


def _page(items: list[dict[str, Any]], limit: int, offset: int) -> tuple[list[dict[str, Any]], bool]:
    return items[offset : offset + limit], offset + limit < len(items)


# --- Slack channels --------------------------------------------------------------------------------
def _authed_user(row: Integration) -> str:
    config = row.config if isinstance(row.config, dict) else {}
    authed = config.get("authed_user")
    user = authed.get("id") if isinstance(authed, dict) else None
    if not isinstance(user, str) or not user:
        raise ValidationError(MISSING_AUTHED_USER)
    return user


async def _update_cached_channel(
    runtime: Runtime, key: str, channel_id: str, channel: dict[str, Any] | None
) -> None:
    """Merge a looked-up channel into the cached list, or drop one Slack no longer offers."""
    data = await runtime.cache.get(key)
    if not isinstance(data, dict) or not isinstance(data.get("channels"), list):
        return
    channels = [c for c in data["channels"] if c.get("id") != channel_id]
    if channel is not None:
        channels.append(channel)
        channels.sort(key=lambda c: c["name"])
    elif len(channels) == len(data["channels"]):
        return
    ttl = await _remaining_ttl(runtime, key, LIST_CACHE_SECONDS)
    await runtime.cache.set(key, {**data, "channels": channels}, ttl)


def honours_force_refresh(ctx: ProjectContext) -> bool:
    """PostHog's newest rule for Slack's lists: only a signed-in browser may bypass the cache (a
    person pressing "refresh"); API keys read through it, whatever force_refresh says."""
    return ctx.subject.browser_session


async def slack_channels(
    ctx: ProjectContext,
    pk: int,
    *,
    search: str,
    limit: int,
    offset: int,
    channel_id: str,
    force_refresh: bool,
) -> dict[str, Any]:
    force_refresh = force_refresh and honours_force_refresh(ctx)
    row = await _integration(ctx, pk)
    _require_kind(row, "slack", "channels endpoint is only supported for Slack integrations")
    include_private = row.created_by_id is not None and row.created_by_id == ctx.user.id
    authed_user = _authed_user(row)
    runtime = ctx.runtime
    # Keyed by the row (not the Slack team): two projects on one workspace never share private lists.
    key = cache_key(row.id, "slack", "channels", "private" if include_private else "masked")

    if channel_id:
        if not force_refresh:
            data = await runtime.cache.get(key)
            if isinstance(data, dict):
                for channel in data.get("channels", []):
                    if channel.get("id") == channel_id:
                        return {"channels": [channel]}
        if not PROVIDER_ID.match(channel_id):
            return {"channels": []}
        await _spend_lookup_budget(
            runtime, row.id, "slack_channels_info", "Too many Slack channel lookups. Try again in a minute."
        )
        token = _access_token(row, await _token(ctx, row))

        async def lookup() -> dict[str, Any] | None:
            async with slack_client(runtime.settings, token, http_timeout=_timeout(ctx)) as client:
                return await client.channel_by_id(
                    channel_id, include_private=include_private, authed_user=authed_user
                )

        found = await _call(ctx, row, lookup, action="list channels")
        await _update_cached_channel(runtime, key, channel_id, found)
        return {"channels": [found] if found else []}

    async def fill() -> dict[str, Any]:
        token = _access_token(row, await _token(ctx, row))

        async def fetch() -> list[dict[str, Any]]:
            async with slack_client(runtime.settings, token, http_timeout=_timeout(ctx)) as client:
                return await client.list_channels(include_private=include_private, authed_user=authed_user)

        channels = await _call(ctx, row, fetch, action="list channels")
        return {"channels": channels, "lastRefreshedAt": _now_iso()}

    data = await _cached_fill(runtime, key, fill, force=force_refresh)
    visible = [c for c in data["channels"] if not c.get("is_private_without_access")]
    page, has_more = _page(fuzzy_search(visible, search, lambda c: str(c["name"])), limit, offset)
    return {"channels": page, "lastRefreshedAt": data.get("lastRefreshedAt"), "has_more": has_more}


# --- Slack members ---------------------------------------------------------------------------------
def _refreshed_recently(data: dict[str, Any]) -> bool:
    try:
        refreshed = datetime.fromisoformat(str(data.get("lastRefreshedAt")))
    except ValueError:
        return False
    return (datetime.now(UTC) - refreshed).total_seconds() < USERS_MIN_REFRESH_SECONDS


async def slack_users(
    ctx: ProjectContext,
    pk: int,
    *,
    search: str,
    limit: int,
    offset: int,
    user_id: str,
    force_refresh: bool,
) -> dict[str, Any]:
    force_refresh = force_refresh and honours_force_refresh(ctx)
    row = await _integration(ctx, pk)
    _require_kind(row, "slack", "users endpoint is only supported for Slack integrations")
    runtime = ctx.runtime
    team_id = row.integration_id
    key = cache_key(row.id, "slack", "users")

    if user_id:
        data = await runtime.cache.get(key)
        if isinstance(data, dict):
            for member in data.get("users", []):
                if member.get("id") == user_id:
                    return {"users": [member]}
        if not PROVIDER_ID.match(user_id):
            return {"users": []}
        lookup_key = cache_key(row.id, "slack", "user", user_id)
        cached = await runtime.cache.get(lookup_key)
        if isinstance(cached, list):
            return {"users": cached}
        await _spend_lookup_budget(
            runtime, row.id, "slack_users_info", "Too many Slack member lookups. Try again in a minute."
        )
        token = _access_token(row, await _token(ctx, row))

        async def lookup() -> dict[str, Any] | None:
            async with slack_client(runtime.settings, token, http_timeout=_timeout(ctx)) as client:
                return await client.user_by_id(user_id, team_id)

        member = await _call(ctx, row, lookup, action="list workspace members")
        result = [member] if member else []
        await runtime.cache.set(lookup_key, result, LIST_CACHE_SECONDS)
        return {"users": result}

    if force_refresh:
        current = await runtime.cache.get(key)
        if isinstance(current, dict) and _refreshed_recently(current):
            force_refresh = False  # a floor under repeated refreshes: ten Slack pages per click add up

    async def fill() -> dict[str, Any]:
        token = _access_token(row, await _token(ctx, row))

        async def fetch() -> list[dict[str, Any]]:
            async with slack_client(runtime.settings, token, http_timeout=_timeout(ctx)) as client:
                return await client.list_users(team_id)

        members = await _call(ctx, row, fetch, action="list workspace members")
        members.sort(key=lambda m: str(m["display_name"]).lower())
        return {"users": members, "lastRefreshedAt": _now_iso()}

    data = await _cached_fill(runtime, key, fill, force=force_refresh)
    ranked = fuzzy_search(data["users"], search, lambda m: f"{m['display_name']} {m['name']}")
    page, has_more = _page(ranked, limit, offset)
    return {"users": page, "lastRefreshedAt": data.get("lastRefreshedAt"), "has_more": has_more}


# --- ClickUp -------------------------------------------------------------------------------------
def _provider_id_param(value: str | None, attr: str) -> str:
    if value is None or value == "":
        raise ValidationError("This field is required.", code="required", attr=attr)
    if not PROVIDER_ID.match(value):
        raise ValidationError("Enter a valid ID.", attr=attr)
    return value


async def _clickup(ctx: ProjectContext, pk: int, endpoint: str) -> Integration:
    row = await _integration(ctx, pk)
    _require_kind(
        row, "clickup", f"{endpoint} endpoint is only supported for ClickUp integrations", attr="kind"
    )
    return row


async def _clickup_read(
    ctx: ProjectContext,
    row: Integration,
    read: Callable[[ClickUpClient], Awaitable[T]],
    *,
    missing: tuple[str, str],
) -> T:
    token = _access_token(row, await _token(ctx, row))
    try:
        async with clickup_http(ctx.runtime.settings, token, timeout=_timeout(ctx)) as http:
            return await read(ClickUpClient(http))
    except UpstreamError as exc:
        if exc.failure is Failure.NOT_FOUND and missing[0]:
            raise ValidationError(missing[1], attr=missing[0]) from None
        await _fail(ctx, row, exc)


async def clickup_workspaces(ctx: ProjectContext, pk: int) -> dict[str, Any]:
    row = await _clickup(ctx, pk, "clickup_workspaces")
    workspaces = await _clickup_read(ctx, row, lambda c: c.workspaces(), missing=("", ""))
    return {"workspaces": workspaces}


async def clickup_spaces(ctx: ProjectContext, pk: int, workspace_id: str | None) -> dict[str, Any]:
    row = await _clickup(ctx, pk, "clickup_spaces")
    workspace = _provider_id_param(workspace_id, "workspaceId")
    spaces = await _clickup_read(
        ctx,
        row,
        lambda c: c.spaces(workspace),
        missing=("workspaceId", "ClickUp has no workspace with this ID for this integration."),
    )
    return {"spaces": spaces}


async def clickup_lists(ctx: ProjectContext, pk: int, space_id: str | None) -> dict[str, Any]:
    row = await _clickup(ctx, pk, "clickup_lists")
    space = _provider_id_param(space_id, "spaceId")
    lists = await _clickup_read(
        ctx,
        row,
        lambda c: c.lists(space),
        missing=("spaceId", "ClickUp has no space with this ID for this integration."),
    )
    return {"lists": lists}


# --- Linear --------------------------------------------------------------------------------------
async def linear_teams(ctx: ProjectContext, pk: int) -> dict[str, Any]:
    row = await _integration(ctx, pk)
    _require_kind(row, "linear", "linear_teams endpoint is only supported for Linear integrations")
    token = _access_token(row, await _token(ctx, row))

    async def fetch() -> list[dict[str, Any]]:
        async with linear_http(ctx.runtime.settings, token, timeout=_timeout(ctx)) as http:
            return await LinearClient(http).teams()

    return {"teams": await _call(ctx, row, fetch)}


# --- Twilio --------------------------------------------------------------------------------------
async def twilio_phone_numbers(ctx: ProjectContext, pk: int, *, force_refresh: bool) -> dict[str, Any]:
    row = await _integration(ctx, pk)
    _require_kind(
        row, "twilio", "twilio_phone_numbers endpoint is only supported for Twilio integrations", attr="kind"
    )
    key = cache_key(row.id, "twilio", "phone_numbers")

    async def fill() -> dict[str, Any]:
        secrets = (await _token(ctx, row)).secrets
        config = row.config if isinstance(row.config, dict) else {}
        account_sid = config.get("account_sid") or row.integration_id
        auth_token = secrets.get("auth_token")
        if (
            not isinstance(account_sid, str)
            or not isinstance(auth_token, str)
            or not account_sid
            or not auth_token
        ):
            raise to_api_error(UpstreamError("twilio", Failure.AUTH, "missing credentials"))

        async def fetch() -> list[dict[str, Any]]:
            async with twilio_http(
                ctx.runtime.settings, account_sid, auth_token, timeout=_timeout(ctx)
            ) as http:
                return await TwilioClient(http, account_sid).phone_numbers()

        return {"phone_numbers": await _call(ctx, row, fetch), "lastRefreshedAt": _now_iso()}

    return await _cached_fill(ctx.runtime, key, fill, force=force_refresh)
