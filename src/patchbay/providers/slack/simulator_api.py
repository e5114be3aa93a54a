"""Slack Web API methods Patchbay reads: auth.test, conversations.list, users.conversations,
conversations.info, conversations.members, users.list and users.info; and chat.postMessage, which
the proxy's worked example sends (`messages` lists what was posted).

Slack's wire format: every method accepts GET (query) and POST (form or JSON body, as slack_sdk
sends it), the token comes as `Authorization: Bearer` or a `token` parameter, errors are HTTP 200
with `{"ok": false, "error": ...}`, rate limits are HTTP 429 with `Retry-After`, and listings page
with an opaque `response_metadata.next_cursor` ("" on the last page).

Seed a workspace with `seed_workspace`, `add_channel` and `add_user`; issue a token for it with
`state.issue_tokens("slack", "slack", {"team_id": ..., "user_id": ..., "scopes": [...]})` (or
`issue_token` here). `set_page_size` makes Slack return short pages, as the real API may.
"""

from __future__ import annotations

import base64
import secrets
import time
from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from patchbay.simkit.state import Fault, SandboxState

NAME = "slack"
KIND_URLS = {"slack": {"API_URL": "/api"}}

DEFAULT_TEAM_ID = "T0SANDBOX"
DEFAULT_BOT_USER = "U0SANDBOT"
MAX_LIMIT = 1000

# Scope each method needs; a token whose account lists `scopes` and lacks it gets missing_scope.
METHOD_SCOPES = {
    "conversations.list": "channels:read",
    "users.conversations": "channels:read",
    "conversations.info": "channels:read",
    "conversations.members": "channels:read",
    "users.list": "users:read",
    "users.info": "users:read",
    "chat.postMessage": "chat:write",
}


METHOD_NAMES = frozenset({"auth.test", *METHOD_SCOPES})


def _slack_error(error: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"ok": False, "error": error, **extra}, status_code=200)


def render_fault(fault: Fault, request: Request) -> Response | None:
    """Slack's own wire format for injected faults on API methods."""
    if request.url.path.rsplit("/", 1)[-1] not in METHOD_NAMES:
        return None  # OAuth methods: slack_oauth renders them
    if fault.mode == "401":
        return _slack_error("invalid_auth")
    if fault.mode == "revoked":
        return _slack_error("token_revoked")
    if fault.mode == "403":
        return _slack_error("missing_scope", needed="channels:read", provided="chat:write")
    if fault.mode == "429":
        return JSONResponse(
            {"ok": False, "error": "ratelimited"},
            status_code=429,
            headers={"Retry-After": str(fault.retry_after)},
        )
    return None


# --- seeding helpers (used by tests and `patchbay sandbox`) -------------------------------------


def _workspaces(state: SandboxState) -> dict[str, dict[str, Any]]:
    return state.provider_data(NAME).setdefault("workspaces", {})  # type: ignore[no-any-return]


def seed_workspace(
    state: SandboxState, team_id: str = DEFAULT_TEAM_ID, name: str = "Sandbox Workspace"
) -> str:
    _workspaces(state).setdefault(
        team_id,
        {"id": team_id, "name": name, "bot_user_id": DEFAULT_BOT_USER, "channels": {}, "users": {}},
    )
    return team_id


def _workspace(state: SandboxState, team_id: str) -> dict[str, Any]:
    seed_workspace(state, team_id)
    return _workspaces(state)[team_id]


def add_channel(
    state: SandboxState,
    name: str,
    *,
    team_id: str = DEFAULT_TEAM_ID,
    channel_id: str | None = None,
    is_private: bool = False,
    members: list[str] | None = None,
    is_member: bool = True,
    is_archived: bool = False,
    is_ext_shared: bool = False,
) -> dict[str, Any]:
    channel_id = channel_id or ("G" if is_private else "C") + secrets.token_hex(5).upper()
    channel = {
        "id": channel_id,
        "name": name,
        "name_normalized": name,
        "is_channel": not is_private,
        "is_group": is_private,
        "is_im": False,
        "is_mpim": False,
        "is_private": is_private,
        "created": int(time.time()),
        "creator": (members or ["U0CREATOR"])[0],
        "is_archived": is_archived,
        "is_general": name == "general",
        "is_shared": is_ext_shared,
        "is_ext_shared": is_ext_shared,
        "is_org_shared": False,
        "is_member": is_member,
        "topic": {"value": "", "creator": "", "last_set": 0},
        "purpose": {"value": "", "creator": "", "last_set": 0},
        "_members": list(members or []),
    }
    _workspace(state, team_id)["channels"][channel_id] = channel
    return channel


def add_user(
    state: SandboxState,
    name: str,
    *,
    team_id: str = DEFAULT_TEAM_ID,
    user_id: str | None = None,
    real_name: str | None = None,
    display_name: str = "",
    member_team_id: str | None = None,
    **flags: Any,
) -> dict[str, Any]:
    """A workspace member. `flags` sets deleted / is_bot / is_restricted / is_ultra_restricted / ..."""
    user_id = user_id or "U" + secrets.token_hex(5).upper()
    real = real_name if real_name is not None else name.title()
    member = {
        "id": user_id,
        "team_id": member_team_id or team_id,
        "name": name,
        "deleted": False,
        "real_name": real,
        "tz": "Europe/London",
        "profile": {"real_name": real, "display_name": display_name, "email": f"{name}@example.com"},
        "is_admin": False,
        "is_owner": False,
        "is_bot": False,
        "is_restricted": False,
        "is_ultra_restricted": False,
        "is_app_user": False,
        "updated": int(time.time()),
        **flags,
    }
    _workspace(state, team_id)["users"][user_id] = member
    return member


def set_page_size(state: SandboxState, size: int | None) -> None:
    """Cap every page at `size` items whatever `limit` asks (None: honour `limit`)."""
    state.provider_data(NAME)["page_size"] = size


def requests(state: SandboxState, method: str | None = None) -> list[dict[str, str]]:
    """Parameters of every API call received (oldest first), optionally of one method."""
    made: list[dict[str, str]] = state.provider_data(NAME).get("requests", [])
    return [r for r in made if method is None or r["method"] == method]


def messages(state: SandboxState, channel_id: str | None = None) -> list[dict[str, Any]]:
    """Messages posted with chat.postMessage (oldest first), optionally to one channel."""
    posted: list[dict[str, Any]] = state.provider_data(NAME).get("messages", [])
    return [m for m in posted if channel_id is None or m["channel"] == channel_id]


def issue_token(
    state: SandboxState,
    *,
    team_id: str = DEFAULT_TEAM_ID,
    user_id: str = "U0INSTALLER",
    scopes: list[str] | None = None,
) -> str:
    seed_workspace(state, team_id)
    account: dict[str, Any] = {"team_id": team_id, "user_id": user_id}
    if scopes is not None:
        account["scopes"] = scopes
    access, _ = state.issue_tokens(NAME, "slack", account, expires=False, prefix="xoxb")
    return access


# --- request handling --------------------------------------------------------------------------


async def _params(request: Request) -> dict[str, str]:
    params = {k: v for k, v in request.query_params.items()}
    if request.method == "POST":
        content_type = request.headers.get("content-type", "")
        if content_type.startswith("application/json"):
            raw = await request.body()
            body = orjson.loads(raw) if raw else {}
            if isinstance(body, dict):
                params.update(
                    {k: v if isinstance(v, str) else orjson.dumps(v).decode() for k, v in body.items()}
                )
        else:
            # application/x-www-form-urlencoded (slack_sdk's default); parsed by hand so the
            # sandbox needs no multipart library.
            params.update(
                dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))
            )
    return params


def _truthy(value: str | None) -> bool:
    return (value or "").lower() in {"1", "true", "yes"}


def _encode_cursor(offset: int) -> str:
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def _decode_cursor(cursor: str) -> int | None:
    try:
        kind, _, value = base64.b64decode(cursor.encode(), validate=True).decode().partition(":")
        return int(value) if kind == "offset" and int(value) >= 0 else None
    except ValueError:
        return None


def _page(
    state: SandboxState, items: list[Any], params: dict[str, str], default_limit: int
) -> tuple[list[Any], str] | None:
    try:
        limit = int(params.get("limit") or default_limit)
    except ValueError:
        limit = default_limit
    limit = max(1, min(limit, MAX_LIMIT))
    forced = state.provider_data(NAME).get("page_size")
    if forced:
        limit = min(limit, int(forced))
    cursor = params.get("cursor") or ""
    offset = 0
    if cursor:
        decoded = _decode_cursor(cursor)
        if decoded is None:
            return None
        offset = decoded
    chunk = items[offset : offset + limit]
    next_offset = offset + limit
    return chunk, _encode_cursor(next_offset) if next_offset < len(items) else ""


def _public(channel: dict[str, Any]) -> dict[str, Any]:
    data = {k: v for k, v in channel.items() if not k.startswith("_")}
    return data


def routes(state: SandboxState) -> list[BaseRoute]:
    def authenticate(
        params: dict[str, str], request: Request
    ) -> tuple[dict[str, Any] | None, JSONResponse | None]:
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else params.get("token", "")
        if not token:
            return None, _slack_error("not_authed")
        with state.lock:
            issued = state.tokens.get(token)
        if issued is None or issued.provider != NAME:
            return None, _slack_error("invalid_auth")
        if issued.revoked:
            return None, _slack_error("token_revoked")
        if issued.expires_at is not None and issued.expires_at < time.time():
            return None, _slack_error("token_expired")
        if issued.account.get("inactive"):
            return None, _slack_error("account_inactive")
        return issued.account, None

    def workspace_of(account: dict[str, Any]) -> dict[str, Any]:
        team = account.get("team_id") or (account.get("team") or {}).get("id") or DEFAULT_TEAM_ID
        return _workspace(state, str(team))

    def scope_error(account: dict[str, Any], method: str) -> JSONResponse | None:
        granted = account.get("scopes")
        needed = METHOD_SCOPES.get(method)
        if granted is None or needed is None:
            return None
        if isinstance(granted, str):
            granted = [s for s in granted.replace(" ", ",").split(",") if s]
        if needed in granted:
            return None
        return _slack_error("missing_scope", needed=needed, provided=",".join(granted))

    async def dispatch(request: Request) -> Response:
        # One explicit route per method: a catch-all would shadow the OAuth module's methods.
        method = request.url.path.rsplit("/", 1)[-1]
        handler = HANDLERS[method]
        params = await _params(request)
        # What each call asked for (never the token), for tests: `requests(state, "users.list")`.
        state.provider_data(NAME).setdefault("requests", []).append(
            {"method": method, **{k: v for k, v in params.items() if k != "token"}}
        )
        account, error = authenticate(params, request)
        if error is not None or account is None:
            return error or _slack_error("invalid_auth")
        denied = scope_error(account, method)
        if denied is not None:
            return denied
        return handler(account, workspace_of(account), params)

    def auth_test(account: dict[str, Any], ws: dict[str, Any], _: dict[str, str]) -> Response:
        return JSONResponse(
            {
                "ok": True,
                "url": f"https://{ws['id'].lower()}.slack.com/",
                "team": ws["name"],
                "user": "bot",
                "team_id": ws["id"],
                "user_id": ws["bot_user_id"],
                "bot_id": "B0SANDBOT",
                "is_enterprise_install": False,
            }
        )

    def _channels_of_types(ws: dict[str, Any], params: dict[str, str]) -> list[dict[str, Any]]:
        types = {t.strip() for t in (params.get("types") or "public_channel").split(",") if t.strip()}
        exclude_archived = _truthy(params.get("exclude_archived"))
        result = []
        for channel in ws["channels"].values():
            kind = "private_channel" if channel["is_private"] else "public_channel"
            if kind not in types or (exclude_archived and channel["is_archived"]):
                continue
            result.append(channel)
        return result

    def listing(ws: dict[str, Any], params: dict[str, str], channels: list[dict[str, Any]]) -> Response:
        paged = _page(state, channels, params, 100)
        if paged is None:
            return _slack_error("invalid_cursor")
        chunk, next_cursor = paged
        return JSONResponse(
            {
                "ok": True,
                "channels": [_public(c) for c in chunk],
                "response_metadata": {"next_cursor": next_cursor},
            }
        )

    def conversations_list(account: dict[str, Any], ws: dict[str, Any], params: dict[str, str]) -> Response:
        channels = _channels_of_types(ws, params)
        # A bot lists private channels only when it is in them.
        channels = [c for c in channels if not c["is_private"] or c["is_member"]]
        return listing(ws, params, channels)

    def users_conversations(account: dict[str, Any], ws: dict[str, Any], params: dict[str, str]) -> Response:
        user = params.get("user") or account.get("user_id") or ws["bot_user_id"]
        channels = [c for c in _channels_of_types(ws, params) if user in c["_members"]]
        return listing(ws, params, channels)

    def conversations_info(account: dict[str, Any], ws: dict[str, Any], params: dict[str, str]) -> Response:
        channel_id = params.get("channel", "")
        if not channel_id:
            return _slack_error(
                "invalid_arguments",
                response_metadata={"messages": ["[ERROR] missing required field: channel"]},
            )
        channel = ws["channels"].get(channel_id)
        if channel is None or (channel["is_private"] and not channel["is_member"]):
            return _slack_error("channel_not_found")
        body = _public(channel)
        if _truthy(params.get("include_num_members")):
            body["num_members"] = len(channel["_members"])
        return JSONResponse({"ok": True, "channel": body})

    def conversations_members(
        account: dict[str, Any], ws: dict[str, Any], params: dict[str, str]
    ) -> Response:
        channel = ws["channels"].get(params.get("channel", ""))
        if channel is None or (channel["is_private"] and not channel["is_member"]):
            return _slack_error("channel_not_found")
        paged = _page(state, channel["_members"], params, 100)
        if paged is None:
            return _slack_error("invalid_cursor")
        chunk, next_cursor = paged
        return JSONResponse({"ok": True, "members": chunk, "response_metadata": {"next_cursor": next_cursor}})

    def users_list(account: dict[str, Any], ws: dict[str, Any], params: dict[str, str]) -> Response:
        paged = _page(state, list(ws["users"].values()), params, 100)
        if paged is None:
            return _slack_error("invalid_cursor")
        chunk, next_cursor = paged
        return JSONResponse(
            {
                "ok": True,
                "members": chunk,
                "cache_ts": int(time.time()),
                "response_metadata": {"next_cursor": next_cursor},
            }
        )

    def users_info(account: dict[str, Any], ws: dict[str, Any], params: dict[str, str]) -> Response:
        member = ws["users"].get(params.get("user", ""))
        if member is None:
            return _slack_error("user_not_found")
        return JSONResponse({"ok": True, "user": member})

    def chat_post_message(account: dict[str, Any], ws: dict[str, Any], params: dict[str, str]) -> Response:
        wanted = params.get("channel", "")
        channel = ws["channels"].get(wanted) or next(
            (c for c in ws["channels"].values() if c["name"] == wanted.lstrip("#")), None
        )
        if not wanted or channel is None:
            return _slack_error("channel_not_found")
        if channel["is_archived"]:
            return _slack_error("is_archived")
        text = params.get("text", "")
        if not text and not params.get("blocks"):
            return _slack_error("no_text")
        ts = f"{time.time():.6f}"
        message = {"type": "message", "text": text, "user": DEFAULT_BOT_USER, "ts": ts, "bot_id": "B0SANDBOT"}
        state.provider_data(NAME).setdefault("messages", []).append({"channel": channel["id"], **message})
        return JSONResponse({"ok": True, "channel": channel["id"], "ts": ts, "message": message})

    HANDLERS = {
        "auth.test": auth_test,
        "chat.postMessage": chat_post_message,
        "conversations.list": conversations_list,
        "users.conversations": users_conversations,
        "conversations.info": conversations_info,
        "conversations.members": conversations_members,
        "users.list": users_list,
        "users.info": users_info,
    }

    return [Route(f"/api/{method}", dispatch, methods=["GET", "POST"]) for method in HANDLERS]


def seed_demo(state: SandboxState) -> None:
    """What `serve --sandbox` shows a new user: a workspace with a few channels and people."""
    seed_workspace(state)
    add_user(state, "ada", real_name="Ada Lovelace", display_name="ada", user_id="U0INSTALLER")
    add_user(state, "grace", real_name="Grace Hopper", display_name="grace")
    for name in ("general", "random", "engineering", "alerts"):
        add_channel(state, name, members=["U0INSTALLER"])
    add_channel(state, "founders", is_private=True, members=["U0INSTALLER"])
