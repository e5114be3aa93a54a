"""eBay on loopback: the consent page (auth.ebay.com/oauth2/authorize; a `redirect_uri` that is a
registered RuName is replaced by its accept URL, as eBay does), the token endpoint (HTTP Basic client
credentials, authorization-code and refresh grants; user tokens live two hours) and the Commerce
Identity API's user (GET /commerce/identity/v1/user/). Errors are eBay's
`{"errors": [{"errorId", "domain", "category", "message"}]}`."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from patchbay.simkit import oauth as _oauth
from patchbay.simkit.state import Fault, SandboxState

NAME = "ebay"
KIND_URLS = {"ebay": {"AUTHORIZE_URL": "/oauth2/authorize", "API_URL": ""}}
DEFAULT_USER: dict[str, Any] = {"userId": "eBayUser-7fa1c0de", "username": "sandbox_seller"}
USER_TOKEN_LIFETIME = 7200


def register_runame(state: SandboxState, runame: str, accept_url: str) -> None:
    state.provider_data(NAME).setdefault("runames", {})[runame] = accept_url


def _errors(status: int, error_id: int, message: str) -> JSONResponse:
    body = {"errors": [{"errorId": error_id, "domain": "ACCESS", "category": "REQUEST", "message": message}]}
    return JSONResponse(body, status_code=status)


def render_fault(fault: Fault, request: Request) -> Response | None:
    if fault.mode in {"401", "revoked"}:
        return _errors(401, 1001, "Invalid access token")
    if fault.mode == "403":
        return _errors(403, 1100, "Insufficient permissions to fulfill the request.")
    return None


def routes(state: SandboxState) -> list[BaseRoute]:
    async def authorize(request: Request) -> Response:
        runames: dict[str, str] = state.provider_data(NAME).get("runames", {})
        given = request.query_params.get("redirect_uri", "")
        if given in runames:  # eBay sends the browser to the accept URL the RuName stands for
            query = {**request.query_params, "redirect_uri": runames[given]}
            request = Request({**request.scope, "query_string": urlencode(query).encode()}, request.receive)
        return await _oauth.authorize(request, state, NAME, "ebay")

    async def token(request: Request) -> Response:
        params = await _oauth.read_params(request)
        if _oauth.basic_credentials(request) is None or not _oauth.client_ok(request, params):
            return _oauth.oauth_error("invalid_client", 401, "client authentication failed")
        grant: _oauth.Grant | str
        if params.get("grant_type") == "authorization_code":
            runame_url = state.provider_data(NAME).get("runames", {}).get(params.get("redirect_uri", ""))
            if runame_url is not None:
                params["redirect_uri"] = runame_url
            grant = await _oauth.redeem(state, NAME, params, {"user": dict(DEFAULT_USER)})
        elif params.get("grant_type") == "refresh_token":
            grant = await _oauth.redeem_refresh(state, NAME, params.get("refresh_token", ""), rotate=False)
        else:
            return _oauth.oauth_error("unsupported_grant_type")
        if isinstance(grant, str):
            return _oauth.oauth_error("invalid_grant", 400, "the provided authorization grant code is invalid or was issued to another client")
        access, refresh = _oauth.mint(state, NAME, grant, prefix="v^1.1#ebay")
        answer: dict[str, Any] = {"access_token": access, "expires_in": USER_TOKEN_LIFETIME, "token_type": "User Access Token"}
        if params.get("grant_type") == "authorization_code":
            answer.update({"refresh_token": refresh, "refresh_token_expires_in": 47304000})
        return JSONResponse(answer)

    async def user(request: Request) -> Response:
        issued = _oauth.live_token(state, NAME, _oauth.bearer(request))
        if issued is None:
            return _errors(401, 1001, "Invalid access token")
        account = issued.account.get("user", DEFAULT_USER)
        return JSONResponse({**account, "accountType": "INDIVIDUAL", "registrationMarketplaceId": "EBAY_US"})

    return [
        Route("/oauth2/authorize", authorize, methods=["GET"]),
        Route("/identity/v1/oauth2/token", token, methods=["POST"]),
        Route("/commerce/identity/v1/user/", user, methods=["GET"]),
    ]

