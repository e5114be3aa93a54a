"""Slack's resource routes: channels (public, and the installer's private ones) and workspace members,
cached per integration, with by-id lookups under a budget."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from fastapi import Query

from patchbay.kit.errors import APIError, ValidationError
from patchbay.kit.provider_errors import Failure, UpstreamError
from patchbay.kit.search import fuzzy_search, page
from patchbay.kit.timefmt import utc_now_iso
from patchbay.providers.base import ResourceLister, ResourceRoute, ResourceSession
from patchbay.providers.slack.client import slack_client
from patchbay.providers.slack.schemas import SlackChannelsResponse, SlackUsersResponse

USERS_MIN_REFRESH_SECONDS = 30
# Slack ids are short alphanumeric strings; anything else is never sent upstream.
PROVIDER_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

MISSING_AUTHED_USER = "SlackIntegration: Missing authed_user_id in integration config"

# PostHog's texts (posthog/api/integration.py), so clients matching on them keep working.
SLACK_INACTIVE_DETAIL = (
    "Your Slack connection is no longer active. Reconnect Slack to load channels and pick a destination."
)
SLACK_MISSING_SCOPE_DETAIL = (
    "Your Slack connection is missing the permission Patchbay needs to {action}. Reconnect Slack to grant it."
)


def api_error(error: UpstreamError, action: str) -> APIError | None:
    """PostHog raises a bare APIException for these: status 400, type server_error."""
    if error.failure is Failure.AUTH:
        return APIError(SLACK_INACTIVE_DETAIL, code="slack_integration_inactive", status_code=400)
    if error.failure is Failure.PERMISSION:
        return APIError(
            SLACK_MISSING_SCOPE_DETAIL.format(action=action), code="slack_integration_inactive", status_code=400
        )
    return None


# --- channels ------------------------------------------------------------------------------------
def _authed_user(session: ResourceSession) -> str:
    authed = session.config.get("authed_user")
    user = authed.get("id") if isinstance(authed, dict) else None
    if not isinstance(user, str) or not user:
        raise ValidationError(MISSING_AUTHED_USER)
    return user


async def _update_cached_channel(
    session: ResourceSession, key: str, channel_id: str, channel: dict[str, Any] | None
) -> None:
    """Merge a looked-up channel into the cached list, or drop one Slack no longer offers."""
    data = await session.cache_get(key)
    if not isinstance(data, dict) or not isinstance(data.get("channels"), list):
        return
    channels = [c for c in data["channels"] if c.get("id") != channel_id]
    if channel is not None:
        channels.append(channel)
        channels.sort(key=lambda c: c["name"])
    elif len(channels) == len(data["channels"]):
        return
    await session.cache_set(key, {**data, "channels": channels}, await session.remaining_ttl(key))


async def channels(
    session: ResourceSession,
    search: str = Query(
        "", description="Case-insensitive, typo-tolerant channel name search; also matches IDs."
    ),
    limit: int = Query(50, ge=1, le=200, description="Channels per page (1-200)."),
    offset: int = Query(0, ge=0, description="Channels to skip."),
    channel_id: str = Query(
        "", description="Look up one channel by ID; search/limit/offset are then ignored."
    ),
    force_refresh: bool = Query(
        False, description="Bypass the one-hour channel cache: browser sessions only; API keys read the cache."
    ),
) -> dict[str, Any]:
    """Slack channels the connected workspace has, filtered, searchable and paginated.

    Needs `integration:read`. Answers are cached for an hour per integration; `force_refresh` asks
    Slack again. A revoked Slack token answers 400 `slack_integration_inactive`.
    """
    force_refresh = force_refresh and session.browser_session
    include_private = session.created_by_id is not None and session.created_by_id == session.user_id
    authed_user = _authed_user(session)
    settings, timeout = session.settings, session.http_timeout
    # Keyed by the row (not the Slack team): two projects on one workspace never share private lists.
    key = session.cache_key("slack", "channels", "private" if include_private else "masked")

    if channel_id:
        if not force_refresh:
            data = await session.cache_get(key)
            if isinstance(data, dict):
                for channel in data.get("channels", []):
                    if channel.get("id") == channel_id:
                        return {"channels": [channel]}
        if not PROVIDER_ID.match(channel_id):
            return {"channels": []}
        await session.spend_lookup_budget(
            "slack_channels_info", "Too many Slack channel lookups. Try again in a minute."
        )
        token = await session.access_token()

        async def lookup() -> dict[str, Any] | None:
            async with slack_client(settings, token, http_timeout=timeout) as client:
                return await client.channel_by_id(
                    channel_id, include_private=include_private, authed_user=authed_user
                )

        found = await session.call(lookup, action="list channels")
        await _update_cached_channel(session, key, channel_id, found)
        return {"channels": [found] if found else []}

    async def fill() -> dict[str, Any]:
        token = await session.access_token()

        async def fetch() -> list[dict[str, Any]]:
            async with slack_client(settings, token, http_timeout=timeout) as client:
                return await client.list_channels(include_private=include_private, authed_user=authed_user)

        listed = await session.call(fetch, action="list channels")
        return {"channels": listed, "lastRefreshedAt": utc_now_iso()}

    data = await session.cached(key, fill, force=force_refresh)
    visible = [c for c in data["channels"] if not c.get("is_private_without_access")]
    items, has_more = page(fuzzy_search(visible, search, lambda c: str(c["name"])), limit, offset)
    return {"channels": items, "lastRefreshedAt": data.get("lastRefreshedAt"), "has_more": has_more}


# --- members -------------------------------------------------------------------------------------
def _refreshed_recently(data: dict[str, Any]) -> bool:
    try:
        refreshed = datetime.fromisoformat(str(data.get("lastRefreshedAt")))
    except ValueError:
        return False
    return (datetime.now(UTC) - refreshed).total_seconds() < USERS_MIN_REFRESH_SECONDS


async def users(
    session: ResourceSession,
    search: str = Query(
        "", description="Case-insensitive, typo-tolerant member name search; also matches IDs."
    ),
    limit: int = Query(50, ge=1, le=200, description="Members per page (1-200)."),
    offset: int = Query(0, ge=0, description="Members to skip."),
    user_id: str = Query("", description="Look up one member by ID; search/limit/offset are then ignored."),
    force_refresh: bool = Query(
        False,
        description="Bypass the one-hour member cache (at most every 30 s): browser sessions only; API keys read the cache.",
    ),
) -> dict[str, Any]:
    """Members of the connected Slack workspace, searchable and paginated. Needs `integration:read`."""
    force_refresh = force_refresh and session.browser_session
    settings, timeout = session.settings, session.http_timeout
    team_id = session.integration_id
    key = session.cache_key("slack", "users")

    if user_id:
        data = await session.cache_get(key)
        if isinstance(data, dict):
            for member in data.get("users", []):
                if member.get("id") == user_id:
                    return {"users": [member]}
        if not PROVIDER_ID.match(user_id):
            return {"users": []}
        lookup_key = session.cache_key("slack", "user", user_id)
        cached = await session.cache_get(lookup_key)
        if isinstance(cached, list):
            return {"users": cached}
        await session.spend_lookup_budget(
            "slack_users_info", "Too many Slack member lookups. Try again in a minute."
        )
        token = await session.access_token()

        async def lookup() -> dict[str, Any] | None:
            async with slack_client(settings, token, http_timeout=timeout) as client:
                return await client.user_by_id(user_id, team_id)

        member = await session.call(lookup, action="list workspace members")
        result = [member] if member else []
        await session.cache_set(lookup_key, result)
        return {"users": result}

    if force_refresh:
        current = await session.cache_get(key)
        if isinstance(current, dict) and _refreshed_recently(current):
            force_refresh = False  # a floor under repeated refreshes: ten Slack pages per click add up

    async def fill() -> dict[str, Any]:
        token = await session.access_token()

        async def fetch() -> list[dict[str, Any]]:
            async with slack_client(settings, token, http_timeout=timeout) as client:
                return await client.list_users(team_id)

        members = await session.call(fetch, action="list workspace members")
        members.sort(key=lambda m: str(m["display_name"]).lower())
        return {"users": members, "lastRefreshedAt": utc_now_iso()}

    data = await session.cached(key, fill, force=force_refresh)
    ranked = fuzzy_search(data["users"], search, lambda m: f"{m['display_name']} {m['name']}")
    items, has_more = page(ranked, limit, offset)
    return {"users": items, "lastRefreshedAt": data.get("lastRefreshedAt"), "has_more": has_more}


RESOURCES = ResourceLister(
    routes=(
        ResourceRoute(
            path="channels",
            name="integrations_channels_retrieve",
            response_model=SlackChannelsResponse,
            handler=channels,
            wrong_kind="channels endpoint is only supported for Slack integrations",
        ),
        ResourceRoute(
            path="users",
            name="integrations_users_retrieve",
            response_model=SlackUsersResponse,
            handler=users,
            wrong_kind="users endpoint is only supported for Slack integrations",
        ),
    ),
    refresh_failure_is_auth=True,
    api_error=api_error,
    priority=10,
)
