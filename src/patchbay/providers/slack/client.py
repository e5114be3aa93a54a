"""Slack reads through the official slack_sdk async client, classified by the failure policy."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from patchbay.config import Settings
from patchbay.kit.provider_errors import Failure, UpstreamError
from patchbay.kit.retry import read_with_retries
from patchbay.kit.retry_after import DEFAULT_RETRY_AFTER, retry_after_seconds

DEFAULT_API_URL = "https://slack.com/api/"
PRIVATE_CHANNEL_WITHOUT_ACCESS = "PRIVATE_CHANNEL_WITHOUT_ACCESS"
PAGE_SIZE = 1000
MAX_PAGES = 10
MEMBERS_MAX_PAGES = 10

# PostHog's SLACK_AUTH_FAILURE_CODES: the install can no longer authenticate; reconnect needed.
AUTH_FAILURE_CODES = frozenset(
    {"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"}
)
PERMISSION_CODES = frozenset(
    {"missing_scope", "no_permission", "team_access_not_granted", "ekm_access_denied", "org_login_required"}
)
RATE_LIMIT_CODES = frozenset({"ratelimited", "rate_limited"})
TRANSIENT_CODES = frozenset({"internal_error", "fatal_error", "request_timeout", "service_unavailable"})
NOT_FOUND_CODES = frozenset({"channel_not_found", "user_not_found", "user_not_visible"})


def api_url(settings: Settings) -> str:
    url = settings.kind_setting("slack", "API_URL") or DEFAULT_API_URL
    return url if url.endswith("/") else url + "/"


def classify(error: SlackApiError) -> UpstreamError:
    response = error.response
    if not isinstance(response, AsyncSlackResponse):
        # slack_sdk could not even decode the body (HTML error page, garbage).
        return UpstreamError("slack", Failure.UNAVAILABLE, "malformed body")
    status = response.status_code
    data = response.data if isinstance(response.data, dict) else {}
    code = str(data.get("error") or "")
    if status == 429 or code in RATE_LIMIT_CODES:
        headers = {k.lower(): v for k, v in (response.headers or {}).items()}
        return UpstreamError(
            "slack",
            Failure.RATE_LIMITED,
            code or "http 429",
            retry_after=retry_after_seconds(headers, DEFAULT_RETRY_AFTER),
            provider_code=code or None,
        )
    if status >= 500:
        return UpstreamError("slack", Failure.UNAVAILABLE, f"http {status}")
    if status != 200 or not isinstance(response.data, dict) or "ok" not in data:
        return UpstreamError("slack", Failure.UNAVAILABLE, f"http {status}", retryable=False)
    if code in AUTH_FAILURE_CODES:
        return UpstreamError("slack", Failure.AUTH, code, provider_code=code)
    if code in PERMISSION_CODES:
        return UpstreamError("slack", Failure.PERMISSION, code, provider_code=code)
    if code in NOT_FOUND_CODES:
        return UpstreamError("slack", Failure.NOT_FOUND, code, provider_code=code)
    if code in TRANSIENT_CODES:
        return UpstreamError("slack", Failure.UNAVAILABLE, code, provider_code=code)
    return UpstreamError(
        "slack", Failure.UNAVAILABLE, code or "not ok", provider_code=code or None, retryable=False
    )


class SlackClient:
    """Thin wrapper: every call is a retried, classified, time-limited read."""

    def __init__(self, web: AsyncWebClient) -> None:
        self.web = web

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        async def once() -> dict[str, Any]:
            try:
                response = await self.web.api_call(method, params=None, data=_form(params))
            except SlackApiError as exc:
                raise classify(exc) from None
            except (TimeoutError, aiohttp.ServerTimeoutError):
                raise UpstreamError("slack", Failure.UNREACHABLE, "timeout") from None
            except aiohttp.ClientResponseError as exc:
                raise UpstreamError("slack", Failure.UNAVAILABLE, f"http {exc.status}") from None
            except aiohttp.ClientError as exc:
                raise UpstreamError("slack", Failure.UNREACHABLE, type(exc).__name__) from None
            data = response.data
            if not isinstance(data, dict):
                raise UpstreamError("slack", Failure.UNAVAILABLE, "malformed body")
            return data

        return await read_with_retries(once)

    async def paginate(
        self, method: str, key: str, *, max_pages: int = MAX_PAGES, **params: Any
    ) -> list[Any]:
        items: list[Any] = []
        cursor: str | None = None
        for _ in range(max_pages):
            page = await self.call(method, **params, **({"cursor": cursor} if cursor else {}))
            batch = page.get(key)
            if not isinstance(batch, list):
                raise UpstreamError("slack", Failure.UNAVAILABLE, "unexpected body shape")
            items.extend(batch)
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
        return items

    # --- channels ----------------------------------------------------------------------------

    async def list_channels(self, *, include_private: bool, authed_user: str) -> list[dict[str, Any]]:
        """Public channels via conversations.list and the installing user's private ones via
        users.conversations (listed separately: mixed-type pagination is unreliable on Slack),
        sorted by name; private ones masked unless `include_private`."""
        public = await self._list_by_type("public_channel")
        private = await self._list_by_type("private_channel", authed_user=authed_user)
        channels = [serialize_channel(c, include_private=include_private) for c in [*public, *private]]
        return sorted(channels, key=lambda c: c["name"])

    async def _list_by_type(
        self, channel_type: Literal["public_channel", "private_channel"], authed_user: str | None = None
    ) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"exclude_archived": True, "types": channel_type, "limit": PAGE_SIZE}
        if channel_type == "public_channel":
            return await self.paginate("conversations.list", "channels", **params)
        return await self.paginate("users.conversations", "channels", user=authed_user, **params)

    async def channel_by_id(
        self, channel_id: str, *, include_private: bool, authed_user: str
    ) -> dict[str, Any] | None:
        """The channel if it exists and the installing user is in it, else None."""
        try:
            info = await self.call("conversations.info", channel=channel_id, include_num_members=True)
        except UpstreamError as exc:
            if exc.provider_code == "channel_not_found":
                return None
            raise
        channel = info.get("channel")
        if not isinstance(channel, dict) or "id" not in channel:
            raise UpstreamError("slack", Failure.UNAVAILABLE, "unexpected body shape")
        if not await self._is_member(channel_id, authed_user, int(channel.get("num_members") or 0)):
            return None
        return serialize_channel(channel, include_private=include_private)

    async def _is_member(self, channel_id: str, user: str, num_members: int) -> bool:
        cursor: str | None = None
        limit = max(1, min(num_members + 1, PAGE_SIZE))
        for _ in range(MEMBERS_MAX_PAGES):
            try:
                page = await self.call(
                    "conversations.members",
                    channel=channel_id,
                    limit=limit,
                    **({"cursor": cursor} if cursor else {}),
                )
            except UpstreamError as exc:
                if exc.provider_code == "channel_not_found":
                    return False
                raise
            members = page.get("members") or []
            if user in members:
                return True
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return False
        return False

    # --- users -------------------------------------------------------------------------------

    async def list_users(self, team_id: str | None) -> list[dict[str, Any]]:
        members = await self.paginate("users.list", "members", limit=PAGE_SIZE)
        return [serialize_user(m) for m in members if is_dmable(m, team_id)]

    async def user_by_id(self, user_id: str, team_id: str | None) -> dict[str, Any] | None:
        try:
            data = await self.call("users.info", user=user_id)
        except UpstreamError as exc:
            if exc.failure is Failure.NOT_FOUND:
                return None
            raise
        member = data.get("user")
        if not isinstance(member, dict) or not is_dmable(member, team_id):
            return None
        return serialize_user(member)


def _form(params: dict[str, Any]) -> dict[str, str]:
    """slack_sdk's own encoding: booleans as "1"/"0", everything else as text."""
    form: dict[str, str] = {}
    for key, value in params.items():
        if value is None:
            continue
        form[key] = ("1" if value else "0") if isinstance(value, bool) else str(value)
    return form


def serialize_channel(channel: dict[str, Any], *, include_private: bool) -> dict[str, Any]:
    is_private = bool(channel.get("is_private", False))
    without_access = is_private and not include_private
    return {
        "id": str(channel["id"]),
        "name": PRIVATE_CHANNEL_WITHOUT_ACCESS if without_access else str(channel.get("name", "")),
        "is_private": is_private,
        "is_member": bool(channel.get("is_member", True)),
        "is_ext_shared": bool(channel.get("is_ext_shared", False)),
        "is_private_without_access": without_access,
    }


def is_dmable(member: dict[str, Any], team_id: str | None) -> bool:
    """A human, non-guest, non-deleted member of this workspace (PostHog's filter)."""
    member_team = member.get("team_id")
    enterprise_teams = (member.get("enterprise_user") or {}).get("teams") or []
    in_workspace = not member.get("is_stranger") and (
        member_team is None or member_team == team_id or (team_id is not None and team_id in enterprise_teams)
    )
    return (
        in_workspace
        and not member.get("deleted")
        and not member.get("is_bot")
        and not member.get("is_restricted")
        and not member.get("is_ultra_restricted")
        and member.get("id") != "USLACKBOT"
    )


def serialize_user(member: dict[str, Any]) -> dict[str, Any]:
    profile = member.get("profile") or {}
    name = str(member.get("name", ""))
    return {
        "id": str(member["id"]),
        "name": name,
        "display_name": str(profile.get("display_name") or member.get("real_name") or name),
    }


@asynccontextmanager
async def slack_client(settings: Settings, token: str, *, http_timeout: float) -> AsyncIterator[SlackClient]:
    """A client bound to one token and one aiohttp session, closed on exit."""
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=http_timeout))
    try:
        web = AsyncWebClient(
            token=token,
            base_url=api_url(settings),
            timeout=int(max(1, http_timeout)),
            session=session,
            retry_handlers=[],  # retries are ours (kit.retry), reads only
        )
        yield SlackClient(web)
    finally:
        await session.close()
