"""Google OAuth 2.0 for the Google kinds (Ads, Analytics, Calendar, Search Console, Sheets, YouTube
Analytics): /o/oauth2/v2/auth (PKCE), POST /token and GET /v1/userinfo (OpenID). A refresh token is
issued only with access_type=offline&prompt=consent, as Google does; refreshes keep it. Errors are
`{"error", "error_description"}`. The signed-in user is `account[<kind>]` ({"sub", "email"}).
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from patchbay.simkit import oauth as _oauth
from patchbay.simkit.state import Fault, SandboxState

NAME = "google"
GOOGLE_KINDS = (
    "google-ads", "google-analytics", "google-calendar", "google-search-console", "google-sheets",
    "youtube-analytics",
)  # fmt: skip
# The data APIs (proxy bases) are served here too: Google Ads' lives beside the OAuth endpoints.
KIND_URLS = {
    kind: {"AUTHORIZE_URL": "/o/oauth2/v2/auth", "API_URL": "", "PROXY_URL": ""} for kind in GOOGLE_KINDS
}
DEFAULT_ACCOUNT: dict[str, Any] = {"sub": "109876543210987654321", "email": "sandbox.user@gmail.com"}


def render_fault(fault: Fault, request: Request) -> Response | None:
    if fault.mode in {"401", "revoked"}:
        return _oauth.oauth_error("invalid_client", 401, "The OAuth client was not found.")
    if fault.mode == "429":
        return JSONResponse(
            {"error": {"code": 429, "message": "Quota exceeded.", "status": "RESOURCE_EXHAUSTED"}},
            status_code=429,
            headers={"Retry-After": str(fault.retry_after)},
        )
    return None


def routes(state: SandboxState) -> list[BaseRoute]:
    async def authorize(request: Request) -> Response:
        scope = request.query_params.get("scope", "")
        kind = "google-ads"
        for candidate, marker in (
            ("google-analytics", "analytics.readonly"),
            ("google-calendar", "calendar"),
            ("google-search-console", "webmasters"),
            ("google-sheets", "spreadsheets"),
            ("youtube-analytics", "yt-analytics"),
        ):
            if marker in scope:
                kind = candidate
        return await _oauth.authorize(request, state, NAME, kind)

    async def token(request: Request) -> Response:
        params = await _oauth.read_params(request)
        if not _oauth.client_ok(request, params):
            return _oauth.oauth_error("invalid_client", 401, "Unauthorized")
        grant: _oauth.Grant | str
        if params.get("grant_type") == "refresh_token":
            grant = await _oauth.redeem_refresh(state, NAME, params.get("refresh_token", ""), rotate=False)
        elif params.get("grant_type") == "authorization_code":
            grant = await _oauth.redeem(state, NAME, params, DEFAULT_ACCOUNT)
        else:
            return _oauth.oauth_error("unsupported_grant_type", 400, "Invalid grant_type")
        if isinstance(grant, str):
            return _oauth.oauth_error(
                grant if grant != "redirect_uri_mismatch" else "invalid_grant", 400, "Bad Request"
            )
        access, refresh = _oauth.mint(state, NAME, grant, prefix="ya29")
        body: dict[str, Any] = {
            "access_token": access,
            "expires_in": state.token_lifetime,
            "scope": grant.authorize_params.get("scope", ""),
            "token_type": "Bearer",
            "id_token": _oauth.fake_jwt({"sub": grant.account["sub"], "email": grant.account["email"]}),
        }
        offline = grant.authorize_params.get("access_type") == "offline"
        if params.get("grant_type") == "authorization_code" and offline:
            body["refresh_token"] = refresh
        return JSONResponse(body)

    async def userinfo(request: Request) -> Response:
        issued = _oauth.live_token(state, NAME, _oauth.bearer(request))
        if issued is None:
            return JSONResponse(
                {"error": "invalid_request", "error_description": "Invalid Credentials"}, status_code=401
            )
        return JSONResponse({**issued.account, "email_verified": True})

    async def revoke(request: Request) -> Response:
        params = await _oauth.read_params(request)
        if not _oauth.revoke_token(state, NAME, params.get("token", "")):
            return _oauth.oauth_error("invalid_token", 400, "Token expired or revoked")
        return Response(status_code=200)

    return [
        Route("/o/oauth2/v2/auth", authorize, methods=["GET"]),
        Route("/token", token, methods=["POST"]),
        Route("/v1/userinfo", userinfo, methods=["GET"]),
        Route("/revoke", revoke, methods=["POST"]),
    ]
