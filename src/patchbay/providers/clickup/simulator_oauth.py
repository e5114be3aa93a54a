"""ClickUp OAuth: the authorize page, POST /api/v2/oauth/token (credentials in the query, a form
or JSON; answers only `{"access_token"}`: ClickUp tokens never expire and have no refresh) and
GET /api/v2/user, the identity call. Errors are `{"err", "ECODE"}` with real 4xx statuses.

The connected user is `account["clickup"]` (`set_account(state, "clickup", "clickup", {...})`);
the token's account carries `user` (and optionally `team_ids`) as clickup_api expects.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from patchbay.simkit import oauth as _oauth
from patchbay.simkit.state import Fault, SandboxState

NAME = "clickup"
KIND_URLS = {"clickup": {"AUTHORIZE_URL": "/authorize", "API_URL": "/api"}}
DEFAULT_ACCOUNT: dict[str, Any] = {
    "user": {
        "id": 183,
        "username": "Sandbox User",
        "email": "sandbox@example.com",
        "color": "#7b68ee",
        "profilePicture": None,
        "initials": "SU",
        "week_start_day": 0,
        "global_font_support": False,
        "timezone": "UTC",
    }
}


def _error(status: int, err: str, ecode: str) -> JSONResponse:
    return JSONResponse({"err": err, "ECODE": ecode}, status_code=status)


def render_fault(fault: Fault, request: Request) -> Response | None:
    if fault.mode in {"401", "revoked"}:
        return _error(401, "Token invalid", "OAUTH_025")
    if fault.mode == "429":
        return JSONResponse(
            {"err": "Rate limit reached", "ECODE": "APP_002"},
            status_code=429,
            headers={"X-RateLimit-Limit": "100", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "0"},
        )
    return None


def routes(state: SandboxState) -> list[BaseRoute]:
    async def authorize(request: Request) -> Response:
        return await _oauth.authorize(request, state, NAME, "clickup")

    async def token(request: Request) -> Response:
        params = await _oauth.read_params(request)
        if params.get("client_id") != "sandbox-client-id":
            return _error(400, "Client not found", "OAUTH_010")
        if not _oauth.client_ok(request, params):
            return _error(400, "Client secret invalid", "OAUTH_011")
        grant = await _oauth.redeem(state, NAME, params, DEFAULT_ACCOUNT)
        if isinstance(grant, str):
            return _error(400, "Code not found", "OAUTH_014")
        access, refresh = _oauth.mint(state, NAME, grant, prefix="clickup", expires=False)
        with state.lock:
            state.refresh_tokens.pop(refresh, None)  # ClickUp has no refresh tokens
        return JSONResponse({"access_token": access})

    async def user(request: Request) -> Response:
        issued = _oauth.live_token(state, NAME, _oauth.bearer(request))
        if issued is None:
            return _error(401, "Token invalid", "OAUTH_025")
        return JSONResponse({"user": issued.account.get("user", DEFAULT_ACCOUNT["user"])})

    return [
        Route("/authorize", authorize, methods=["GET"]),
        Route("/api/v2/oauth/token", token, methods=["POST"]),
        Route("/api/v2/user", user, methods=["GET"]),
    ]
