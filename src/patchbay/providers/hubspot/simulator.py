"""HubSpot OAuth: /oauth/authorize, POST /oauth/v1/token (form; authorization code and refresh — the
refresh token is long-lived, not rotated; access tokens last 30 minutes) and the token-info call
GET /oauth/v1/access-tokens/{token}. Errors are `{"status", "message", "correlationId"}` with 400.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from patchbay.simkit import oauth as _oauth
from patchbay.simkit.state import Fault, SandboxState

NAME = "hubspot"
KIND_URLS = {"hubspot": {"AUTHORIZE_URL": "/oauth/authorize", "API_URL": ""}}
DEFAULT_ACCOUNT: dict[str, Any] = {
    "hub_id": 62515,
    "hub_domain": "sandbox-hub.hubspot.com",
    "user": "sandbox@example.com",
    "user_id": 123,
}
LIFETIME = 1800


def _error(status: str, message: str, code: int = 400) -> JSONResponse:
    return JSONResponse(
        {
            "status": status,
            "message": message,
            "correlationId": str(uuid.uuid4()),
            "category": "VALIDATION_ERROR",
        },
        status_code=code,
    )


def render_fault(fault: Fault, request: Request) -> Response | None:
    if fault.mode in {"401", "revoked"}:
        return _error("BAD_CLIENT_ID", "missing or unknown client id", 401)
    if fault.mode == "429":
        return JSONResponse(
            {
                "status": "error",
                "message": "You have reached your secondly limit.",
                "errorType": "RATE_LIMIT",
            },
            status_code=429,
            headers={"Retry-After": str(fault.retry_after), "X-HubSpot-RateLimit-Remaining": "0"},
        )
    return None


def routes(state: SandboxState) -> list[BaseRoute]:
    async def authorize(request: Request) -> Response:
        return await _oauth.authorize(request, state, NAME, "hubspot")

    async def token(request: Request) -> Response:
        params = await _oauth.read_params(request)
        if not _oauth.client_ok(request, params):
            return _error("BAD_CLIENT_ID", "missing or unknown client id")
        grant: _oauth.Grant | str
        if params.get("grant_type") == "refresh_token":
            grant = await _oauth.redeem_refresh(state, NAME, params.get("refresh_token", ""), rotate=False)
            if isinstance(grant, str):
                return _error("BAD_REFRESH_TOKEN", "missing or unknown refresh token")
        elif params.get("grant_type") == "authorization_code":
            grant = await _oauth.redeem(state, NAME, params, DEFAULT_ACCOUNT)
            if isinstance(grant, str):
                return _error("BAD_AUTH_CODE", "missing or unknown auth code")
        else:
            return _error("BAD_GRANT_TYPE", "unknown grant type")
        access, refresh = _oauth.mint(state, NAME, grant, prefix="hs")
        return JSONResponse(
            {"access_token": access, "refresh_token": refresh, "expires_in": LIFETIME, "token_type": "bearer"}
        )

    async def token_info(request: Request) -> Response:
        issued = _oauth.live_token(state, NAME, request.path_params["token"])
        if issued is None:
            return _error("EXPIRED_AUTHENTICATION", "The OAuth token used to make this call expired", 401)
        account = issued.account
        return JSONResponse(
            {
                "token": request.path_params["token"],
                "user": account.get("user"),
                "hub_domain": account.get("hub_domain"),
                "scopes": ["oauth", "crm.objects.contacts.read"],
                "hub_id": account.get("hub_id"),
                "app_id": 456,
                "expires_in": int((issued.expires_at or time.time()) - time.time()),
                "user_id": account.get("user_id"),
                "token_type": "access",
            }
        )

    return [
        Route("/oauth/authorize", authorize, methods=["GET"]),
        Route("/oauth/v1/token", token, methods=["POST"]),
        Route("/oauth/v1/access-tokens/{token}", token_info, methods=["GET"]),
    ]
