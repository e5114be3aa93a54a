"""Asana on loopback: the authorize page, POST /-/oauth_token (form client credentials, PKCE,
refresh grants that keep the refresh token, the user in `data`) and GET /api/1.0/workspaces
(Bearer token, `limit`/`offset` paging with `next_page`). Errors are `{"errors": [{"message"}]}`.

Seed with `add_workspace(state, name)`; `set_page_size(state, n)` shortens pages; the connected user
is `account["asana"]` (`simkit.oauth.set_account(state, "asana", "asana", {...})`).
"""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from patchbay.simkit import oauth as _oauth
from patchbay.simkit.state import Fault, SandboxState

NAME = "asana"
KIND_URLS = {"asana": {"AUTHORIZE_URL": "/-/oauth_authorize", "API_URL": ""}}
DEFAULT_USER: dict[str, Any] = {"gid": "1200000000000001", "name": "Sandbox User", "email": "sandbox@example.com"}
DEFAULT_PAGE = 100


def add_workspace(state: SandboxState, name: str, gid: str | None = None) -> str:
    workspace_id = gid or str(uuid.uuid4().int % 10**16)
    state.provider_data(NAME).setdefault("workspaces", []).append({"gid": workspace_id, "name": name})
    return workspace_id


def set_page_size(state: SandboxState, size: int) -> None:
    state.provider_data(NAME)["page_size"] = size


def _errors(status: int, message: str) -> JSONResponse:
    return JSONResponse({"errors": [{"message": message}]}, status_code=status)


def render_fault(fault: Fault, request: Request) -> Response | None:
    if fault.mode in {"401", "revoked"}:
        return _errors(401, "Not Authorized")
    if fault.mode == "403":
        return _errors(403, "Forbidden")
    return None


def routes(state: SandboxState) -> list[BaseRoute]:
    async def authorize(request: Request) -> Response:
        return await _oauth.authorize(request, state, NAME, "asana")

    async def token(request: Request) -> Response:
        params = await _oauth.read_params(request)
        if not _oauth.client_ok(request, params):
            return _oauth.oauth_error("invalid_client", 401, "The client credentials are invalid")
        grant: _oauth.Grant | str
        if params.get("grant_type") == "authorization_code":
            grant = await _oauth.redeem(state, NAME, params, {"user": dict(DEFAULT_USER)})
        elif params.get("grant_type") == "refresh_token":
            grant = await _oauth.redeem_refresh(state, NAME, params.get("refresh_token", ""), rotate=False)
        else:
            return _oauth.oauth_error("unsupported_grant_type")
        if isinstance(grant, str):
            return _oauth.oauth_error(grant, 400, "The grant is invalid or expired")
        access, refresh = _oauth.mint(state, NAME, grant, prefix="asana")
        user = grant.account.get("user", DEFAULT_USER)
        return JSONResponse(
            {
                "access_token": access,
                "token_type": "bearer",
                "expires_in": state.token_lifetime,
                "refresh_token": refresh,
                "data": {"id": int(user["gid"]), **user},
            }
        )

    async def workspaces(request: Request) -> Response:
        if _oauth.live_token(state, NAME, _oauth.bearer(request)) is None:
            return _errors(401, "Not Authorized")
        data = state.provider_data(NAME)
        every: list[dict[str, Any]] = list(data.get("workspaces", []))
        size = min(int(request.query_params.get("limit", DEFAULT_PAGE)), int(data.get("page_size", DEFAULT_PAGE)))
        start = int(request.query_params.get("offset") or 0)
        chunk = every[start : start + size]
        more = start + size < len(every)
        items = [{**w, "resource_type": "workspace"} for w in chunk]
        next_page = {"offset": str(start + size), "path": "/workspaces", "uri": ""} if more else None
        return JSONResponse({"data": items, "next_page": next_page})

    return [
        Route("/-/oauth_authorize", authorize, methods=["GET"]),
        Route("/-/oauth_token", token, methods=["POST"]),
        Route("/api/1.0/workspaces", workspaces, methods=["GET"]),
    ]
