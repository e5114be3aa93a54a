"""Salesforce (and Pardot) OAuth web-server flow: /login/services/oauth2/authorize (PKCE), token and
revoke endpoints on the production login host (`/login`) and the sandbox login host (`/test`).

Salesforce answers no `expires_in` and keeps refresh tokens (no rotation). Its `instance_url` points
back into this simulator over plain http, which Patchbay does not trust as an instance host, so
refreshes and revokes go to the configured login host. `set_knob(state, "salesforce", "sandbox_org",
True)` makes codes redeemable only on the sandbox host (the production host answers invalid_grant),
exercising the fallback to test.salesforce.com. The proxy bases: `GET /instance/{org}/services/data`
(the org's REST API versions) and `GET /pardot/api/v5/objects/campaigns` (a business unit header
required, as Pardot does).
"""

from __future__ import annotations

import secrets
import time

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from patchbay.simkit import oauth as _oauth
from patchbay.simkit.state import Fault, SandboxState

NAME = "salesforce"
_URLS = {"AUTHORIZE_URL": "/login/services/oauth2/authorize", "API_URL": "/login"}
# The proxy bases: an org's instance (`instance_url` lies under /instance) and Pardot's API host.
KIND_URLS = {
    "salesforce": {**_URLS, "PROXY_URL": "/instance"},
    "pardot": {**_URLS, "PROXY_URL": "/pardot"},
    "salesforce-sandbox": {"API_URL": "/test"},
}
API_VERSIONS = [{"label": "Winter '26", "url": "/services/data/v65.0", "version": "65.0"}]
DEFAULT_ORG = "00DSANDBOX0000001"


def render_fault(fault: Fault, request: Request) -> Response | None:
    if fault.mode in {"401", "revoked"}:
        return _oauth.oauth_error("invalid_client", 400, "invalid client credentials")
    if fault.mode == "429":
        return JSONResponse(
            [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}],
            status_code=429,
            headers={"Retry-After": str(fault.retry_after)},
        )
    return None


def routes(state: SandboxState) -> list[BaseRoute]:
    async def authorize(request: Request) -> Response:
        kind = "pardot" if "pardot" in request.query_params.get("scope", "") else "salesforce"
        return await _oauth.authorize(request, state, NAME, kind)

    def token_route(host: str):  # type: ignore[no-untyped-def]
        async def token(request: Request) -> Response:
            params = await _oauth.read_params(request)
            if not _oauth.client_ok(request, params):
                return _oauth.oauth_error("invalid_client_id", 400, "client identifier invalid")
            sandbox_org = bool(state.provider_data(NAME).get("sandbox_org"))
            grant: _oauth.Grant | str
            if params.get("grant_type") == "refresh_token":
                grant = await _oauth.redeem_refresh(
                    state, NAME, params.get("refresh_token", ""), rotate=False
                )
            elif params.get("grant_type") == "authorization_code":
                if sandbox_org and host == "login":
                    return _oauth.oauth_error("invalid_grant", 400, "authentication failure")
                org = str(_oauth.account_for(state, NAME, "salesforce", {"org": DEFAULT_ORG})["org"])
                grant = await _oauth.redeem(state, NAME, params, {"org": org})
            else:
                return _oauth.oauth_error("unsupported_grant_type", 400, "grant type not supported")
            if isinstance(grant, str):
                return _oauth.oauth_error("invalid_grant", 400, "expired access/refresh token")
            access, refresh = _oauth.mint(state, NAME, grant, prefix="00D!sf")
            base = str(request.base_url).rstrip("/")
            org = grant.account.get("org", DEFAULT_ORG)
            body = {
                "access_token": access,
                "signature": secrets.token_urlsafe(16),
                "scope": "refresh_token full",
                "instance_url": f"{base}/{NAME}/instance/{org}",
                "id": f"https://{host}.salesforce.com/id/{org}/005SANDBOXUSER01",
                "token_type": "Bearer",
                "issued_at": str(int(time.time() * 1000)),
            }
            if params.get("grant_type") == "authorization_code":
                body["refresh_token"] = refresh
            return JSONResponse(body)

        return token

    async def revoke(request: Request) -> Response:
        params = await _oauth.read_params(request)
        if not _oauth.revoke_token(state, NAME, params.get("token", "")):
            return _oauth.oauth_error("unsupported_token_type", 400, "this token type is not supported")
        return Response(status_code=200)

    def _unauthorized() -> Response:
        return JSONResponse(
            [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}], status_code=401
        )

    async def data_versions(request: Request) -> Response:
        # The org's REST API root: what a proxied call to `services/data` answers.
        if _oauth.live_token(state, NAME, _oauth.bearer(request)) is None:
            return _unauthorized()
        return JSONResponse(API_VERSIONS)

    async def pardot_campaigns(request: Request) -> Response:
        if _oauth.live_token(state, NAME, _oauth.bearer(request)) is None:
            return _unauthorized()
        if not request.headers.get("pardot-business-unit-id"):
            return JSONResponse(
                {"code": 181, "message": "Business Unit ID is invalid or missing."}, status_code=400
            )
        return JSONResponse({"values": [{"id": 1001, "name": "Sandbox campaign"}], "nextPageUrl": None})

    result: list[BaseRoute] = [
        Route("/login/services/oauth2/authorize", authorize, methods=["GET"]),
        Route("/instance/{org}/services/data", data_versions, methods=["GET"]),
        Route("/pardot/api/v5/objects/campaigns", pardot_campaigns, methods=["GET"]),
    ]
    for host in ("login", "test"):
        result.append(Route(f"/{host}/services/oauth2/token", token_route(host), methods=["POST"]))
        result.append(Route(f"/{host}/services/oauth2/revoke", revoke, methods=["POST"]))
    return result
