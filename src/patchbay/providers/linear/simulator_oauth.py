"""Linear OAuth 2.0: /oauth/authorize, POST /oauth/token (form-encoded only; authorization code with
optional PKCE, and refresh with rotation: 24-hour access tokens) and POST /oauth/revoke. Errors are
OAuth-style `{"error", "error_description"}`. The organization (`account["linear"]`, by default
linear_api's sandbox organization) is what `viewer { organization }` answers for the token.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from patchbay.providers.linear import simulator_api as linear_api
from patchbay.simkit import oauth as _oauth
from patchbay.simkit.state import Fault, SandboxState

NAME = "linear"
KIND_URLS = {"linear": {"AUTHORIZE_URL": "/oauth/authorize", "API_URL": ""}}


def _default_account() -> dict[str, Any]:
    return {"organization": dict(linear_api.DEFAULT_ORGANIZATION)}


def render_fault(fault: Fault, request: Request) -> Response | None:
    if fault.mode in {"401", "revoked"}:
        return _oauth.oauth_error("invalid_client", 401, "Client authentication failed")
    if fault.mode == "429":
        return JSONResponse(
            {"error": "ratelimited", "error_description": "Rate limit exceeded"},
            status_code=429,
            headers={"Retry-After": str(fault.retry_after)},
        )
    return None


def routes(state: SandboxState) -> list[BaseRoute]:
    async def authorize(request: Request) -> Response:
        return await _oauth.authorize(request, state, NAME, "linear")

    async def token(request: Request) -> Response:
        if "json" in request.headers.get("content-type", ""):
            return _oauth.oauth_error(
                "invalid_request", 400, "Content-Type must be application/x-www-form-urlencoded"
            )
        params = await _oauth.read_params(request)
        if not _oauth.client_ok(request, params):
            return _oauth.oauth_error("invalid_client", 401, "Client authentication failed")
        grant_type = params.get("grant_type")
        grant: _oauth.Grant | str
        if grant_type == "authorization_code":
            grant = await _oauth.redeem(state, NAME, params, _default_account())
        elif grant_type == "refresh_token":
            grant = await _oauth.redeem_refresh(state, NAME, params.get("refresh_token", ""), rotate=True)
        else:
            return _oauth.oauth_error("unsupported_grant_type")
        if isinstance(grant, str):
            return _oauth.oauth_error(grant, 400, "The provided authorization grant is invalid")
        access, refresh = _oauth.mint(state, NAME, grant, prefix="lin")
        return JSONResponse(
            {
                "access_token": access,
                "token_type": "Bearer",
                "expires_in": state.token_lifetime,
                "scope": "read issues:create",
                "refresh_token": refresh,
            }
        )

    async def revoke(request: Request) -> Response:
        params = await _oauth.read_params(request)
        token = (
            params.get("token")
            or params.get("access_token")
            or params.get("refresh_token")
            or _oauth.bearer(request)
        )
        if not token or not _oauth.revoke_token(state, NAME, token):
            return _oauth.oauth_error("invalid_token", 400, "Cannot revoke token")
        return JSONResponse({})

    return [
        Route("/oauth/authorize", authorize, methods=["GET"]),
        Route("/oauth/token", token, methods=["POST"]),
        Route("/oauth/revoke", revoke, methods=["POST"]),
    ]
