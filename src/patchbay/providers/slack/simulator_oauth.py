"""Slack OAuth v2: /oauth/v2/authorize and oauth.v2.access (authorization code and, with token
rotation turned on, refresh). Errors are HTTP 200 `{"ok": false, "error": ...}` as Slack sends them.

The installed workspace is `account["slack"]` (`set_account(state, "slack", "slack", {...})`), by
default the slack_api simulator's sandbox workspace, so channel listings work on the new token.
Turn rotation on with `set_knob(state, "slack", "rotation", True)`: tokens then expire and
oauth.v2.access answers `refresh_token` and `expires_in`, rotating the refresh token on each use.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from patchbay.providers.slack import simulator_api as slack_api
from patchbay.simkit import oauth as _oauth
from patchbay.simkit.state import Fault, SandboxState

NAME = "slack"
KIND_URLS = {"slack": {"AUTHORIZE_URL": "/oauth/v2/authorize", "API_URL": "/api"}}
DEFAULT_ACCOUNT = {
    "team_id": "T0SANDBOX",
    "team_name": "Sandbox Workspace",
    "user_id": "U0INSTALLER",
    "bot_user_id": "U0SANDBOT",
}


def _error(error: str) -> JSONResponse:
    return JSONResponse({"ok": False, "error": error}, status_code=200)


def render_fault(fault: Fault, request: Request) -> Response | None:
    if fault.mode in {"401", "revoked"}:
        return _error("invalid_client_id" if fault.mode == "401" else "token_revoked")
    if fault.mode == "429":
        return JSONResponse(
            {"ok": False, "error": "ratelimited"},
            status_code=429,
            headers={"Retry-After": str(fault.retry_after)},
        )
    return None


def _seed_workspace(state: SandboxState, account: dict[str, Any]) -> None:
    slack_api.seed_workspace(state, account["team_id"], account.get("team_name", "Sandbox Workspace"))


def routes(state: SandboxState) -> list[BaseRoute]:
    async def authorize(request: Request) -> Response:
        return await _oauth.authorize(request, state, NAME, "slack")

    async def access(request: Request) -> Response:
        params = await _oauth.read_params(request)
        if _oauth.basic_credentials(request) is None and params.get("client_id") != "sandbox-client-id":
            return _error("invalid_client_id")
        if not _oauth.client_ok(request, params):
            return _error("bad_client_secret")
        rotation = bool(state.provider_data(NAME).get("rotation"))
        grant_type = params.get("grant_type", "authorization_code")
        grant: _oauth.Grant | str
        if grant_type == "refresh_token":
            grant = await _oauth.redeem_refresh(state, NAME, params.get("refresh_token", ""), rotate=True)
            if isinstance(grant, str):
                return _error("invalid_refresh_token")
        elif grant_type == "authorization_code":
            grant = await _oauth.redeem(state, NAME, params, DEFAULT_ACCOUNT)
            if isinstance(grant, str):
                return _error("bad_redirect_uri" if grant == "redirect_uri_mismatch" else "invalid_code")
        else:
            return _error("invalid_grant_type")
        account = grant.account
        access_token, refresh_token = _oauth.mint(
            state, NAME, grant, prefix="xoxe.xoxb" if rotation else "xoxb", expires=rotation
        )
        body: dict[str, Any] = {"ok": True, "access_token": access_token, "token_type": "bot"}
        if rotation:
            body["refresh_token"] = refresh_token
            body["expires_in"] = state.token_lifetime
        else:
            with state.lock:
                state.refresh_tokens.pop(refresh_token, None)  # bot tokens without rotation never refresh
        if grant_type == "refresh_token":
            return JSONResponse(body)
        _seed_workspace(state, account)
        body.update(
            {
                "scope": grant.authorize_params.get("scope", "channels:read"),
                "bot_user_id": account.get("bot_user_id", "U0SANDBOT"),
                "app_id": "A0SANDBOX",
                "team": {"id": account["team_id"], "name": account.get("team_name", "Sandbox Workspace")},
                "enterprise": None,
                "is_enterprise_install": False,
                "authed_user": {"id": account.get("user_id", "U0INSTALLER")},
            }
        )
        if "incoming-webhook" in body["scope"]:
            body["incoming_webhook"] = {
                "channel": "#general",
                "channel_id": "C0GENERAL",
                "configuration_url": "https://sandbox.slack.invalid/services/B0SANDBOX",
                "url": "https://hooks.slack.invalid/services/T0SANDBOX/B0SANDBOX/secret",
            }
        return JSONResponse(body)

    return [
        Route("/oauth/v2/authorize", authorize, methods=["GET"]),
        Route("/api/oauth.v2.access", access, methods=["GET", "POST"]),
    ]
