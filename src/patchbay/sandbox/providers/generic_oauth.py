"""OAuth simulators for the providers without a module of their own: Intercom, Jira (Atlassian),
Snapchat, LinkedIn, Microsoft Advertising (bing-ads), Reddit, Pinterest, Meta (meta-ads, instagram),
Stripe, Resend and TikTok. Each kind lives under `/oauth/<kind>` with the provider's real paths
below it (the API URL is `/oauth/<kind>`), its real client authentication (form, HTTP Basic,
Stripe's secret-key Basic, TikTok's JSON), token shapes (JWT id tokens and access tokens where the
provider sends them, TikTok's `{"code", "data"}` envelope) and identity calls.

Knobs: `set_account(state, "oauth", kind, {...})` picks the connected account;
`set_knob(state, "oauth", "no_sites", True)` (Jira) / `"no_advertisers"` (TikTok) return empty lists.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from patchbay.simkit import oauth as _oauth
from patchbay.simkit.state import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, SandboxState

NAME = "oauth"

Handler = Callable[[Request, SandboxState, "Sim"], Awaitable[Response]]


@dataclass
class Sim:
    kind: str
    token_path: str
    account: dict[str, Any]
    auth: str = "form"  # form | basic | stripe | tiktok
    lifetime: int | None = 3600
    refresh: bool = True
    rotate: bool = True
    prefix: str = "tok"
    client_param: str = "client_id"
    revoke_path: str | None = None
    extra: dict[str, Handler] = field(default_factory=dict)
    shape: Callable[[Sim, _oauth.Grant, str, str, SandboxState], dict[str, Any]] | None = None


def _account(state: SandboxState, sim: Sim, issued_account: dict[str, Any] | None = None) -> dict[str, Any]:
    return (
        issued_account
        if issued_account is not None
        else _oauth.account_for(state, NAME, sim.kind, sim.account)
    )


def _identity(build: Callable[[dict[str, Any], SandboxState], Any], header: str = "bearer") -> Handler:
    async def handler(request: Request, state: SandboxState, sim: Sim) -> Response:
        token = (
            request.headers.get("access-token", "") if header == "access-token" else _oauth.bearer(request)
        )
        issued = _oauth.live_token(state, NAME, token)
        if issued is None or issued.kind != sim.kind:
            return JSONResponse(
                {"error": "invalid_token", "message": "Invalid access token"}, status_code=401
            )
        return JSONResponse(build(issued.account, state))

    return handler


async def _stripe_account(request: Request, state: SandboxState, sim: Sim) -> Response:
    if _oauth.basic_credentials(request) != (SANDBOX_CLIENT_SECRET, ""):
        return JSONResponse(
            {"error": {"type": "invalid_request_error", "message": "Invalid API Key"}}, status_code=401
        )
    account = _oauth.account_for(state, NAME, "stripe", sim.account)
    if request.path_params.get("rest", "").strip("/") != account["stripe_user_id"]:
        return JSONResponse(
            {"error": {"type": "invalid_request_error", "message": "No such account"}}, status_code=404
        )
    return JSONResponse(
        {
            "id": account["stripe_user_id"],
            "object": "account",
            "business_profile": {"name": account["name"]},
            "settings": {"dashboard": {"display_name": account["name"]}},
        }
    )


def _jira_sites(account: dict[str, Any], state: SandboxState) -> Any:
    if state.provider_data(NAME).get("no_sites"):
        return []
    return [
        {
            "id": account["cloud_id"],
            "name": account["site_name"],
            "url": f"https://{account['site_name']}.atlassian.net",
            "scopes": ["read:jira-work", "write:jira-work"],
            "avatarUrl": "https://site-admin-avatar-cdn.prod.public.atl-paas.net/avatars/240/rocket.png",
        }
    ]


def _with_id_token(claims_of: Callable[[dict[str, Any]], dict[str, Any]]) -> Any:
    def shape(
        sim: Sim, grant: _oauth.Grant, access: str, refresh: str, state: SandboxState
    ) -> dict[str, Any]:
        body = _standard(sim, grant, access, refresh, state)
        body["id_token"] = _oauth.fake_jwt(claims_of(grant.account))
        return body

    return shape


def _standard(
    sim: Sim, grant: _oauth.Grant, access: str, refresh: str, state: SandboxState
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "access_token": access,
        "token_type": "Bearer",
        "scope": grant.authorize_params.get("scope", ""),
    }
    if sim.lifetime:
        body["expires_in"] = sim.lifetime
    if sim.refresh:
        body["refresh_token"] = refresh
    return body


def _stripe_shape(
    sim: Sim, grant: _oauth.Grant, access: str, refresh: str, state: SandboxState
) -> dict[str, Any]:
    return {
        "access_token": access,
        "livemode": False,
        "refresh_token": refresh,
        "token_type": "bearer",
        "stripe_publishable_key": "pk_test_sandbox",
        "stripe_user_id": grant.account["stripe_user_id"],
        "scope": "read_write",
    }


SIMS: dict[str, Sim] = {
    sim.kind: sim
    for sim in [
        Sim(
            "intercom",
            "/auth/eagle/token",
            {"id": "991267", "email": "admin@sandbox.example", "name": "Ada Admin"},
            lifetime=None,
            refresh=False,
            extra={"/me": _identity(lambda a, s: {"type": "admin", **a, "app": {"id_code": "sbx123"}})},
        ),
        Sim(
            "jira",
            "/oauth/token",
            {"cloud_id": "11223344-a1b2-3b33-c444-def123456789", "site_name": "sandbox-site"},
            extra={"/oauth/token/accessible-resources": _identity(_jira_sites)},
        ),
        Sim(
            "snapchat",
            "/login/oauth2/access_token",
            {"id": "snap-user-1", "email": "snapper@sandbox.example", "display_name": "Snapper"},
            lifetime=1800,
            extra={
                "/v1/me": _identity(lambda a, s: {"request_status": "SUCCESS", "request_id": "r1", "me": a})
            },
        ),
        Sim(
            "linkedin-ads",
            "/oauth/v2/accessToken",
            {"sub": "li-member-1", "email": "linked@sandbox.example"},
            lifetime=5184000,
            shape=_with_id_token(
                lambda a: {"sub": a["sub"], "email": a["email"], "iss": "https://www.linkedin.com"}
            ),
        ),
        Sim(
            "bing-ads",
            "/common/oauth2/v2.0/token",
            {"oid": "00000000-0000-0000-0000-00000000b1a6", "preferred_username": "ads@sandbox.example"},
            shape=_with_id_token(lambda a: dict(a)),
        ),
        Sim(
            "reddit-ads",
            "/api/v1/access_token",
            {"lid": "t2_sandbox1", "username": "sandbox_redditor"},
            auth="basic",
            lifetime=86400,
            extra={
                "/api/v3/me": _identity(lambda a, s: {"data": {"id": a["lid"], "username": a["username"]}})
            },
        ),
        Sim(
            "pinterest-ads",
            "/v5/oauth/token",
            {"id": "549755885175", "username": "sandboxpins", "business_name": "Sandbox Pins Co"},
            auth="basic",
            lifetime=2592000,
            extra={"/v5/user_account": _identity(lambda a, s: {"account_type": "BUSINESS", **a})},
        ),
        Sim(
            "meta-ads",
            "/v25.0/oauth/access_token",
            {"id": "10222333444", "name": "Sandbox Advertiser"},
            lifetime=5183944,
            refresh=False,
            extra={"/v25.0/me": _identity(lambda a, s: dict(a))},
        ),
        Sim(
            "instagram",
            "/v25.0/oauth/access_token",
            {"id": "17841400000000000", "name": "Sandbox Gram"},
            lifetime=5183944,
            refresh=False,
            extra={"/v25.0/me": _identity(lambda a, s: dict(a))},
        ),
        Sim(
            "stripe",
            "/v1/oauth/token",
            {"stripe_user_id": "acct_1SandboxAcct01", "name": "Sandbox Shop"},
            auth="stripe",
            shape=_stripe_shape,
            extra={"/v1/accounts/{rest:path}": _stripe_account},
        ),
        Sim(
            "resend",
            "/oauth/token",
            {"sub": "team_sandbox_01", "name": "Sandbox Mail Team"},
            revoke_path="/oauth/revoke",
        ),
        Sim(
            "tiktok-ads",
            "/open_api/v1.3/oauth2/access_token/",
            {
                "advertiser_ids": ["7001000000000000001"],
                "email": "tt@sandbox.example",
                "display_name": "TT Ads",
            },
            auth="tiktok",
            lifetime=None,
            refresh=False,
            client_param="app_id",
            extra={
                "/open_api/v1.3/user/info/": _identity(
                    lambda a, s: {
                        "code": 0,
                        "message": "OK",
                        "data": {"email": a["email"], "display_name": a["display_name"]},
                    },
                    header="access-token",
                )
            },
        ),
    ]
}
# A kind whose data API is not its OAuth host (catalogue `proxy_base`) is proxied to the same prefix.
_SEPARATE_PROXY_BASE = ("jira", "snapchat", "linkedin-ads", "bing-ads", "reddit-ads")
KIND_URLS = {
    kind: {
        "AUTHORIZE_URL": f"/{kind}/authorize",
        "API_URL": f"/{kind}",
        **({"PROXY_URL": f"/{kind}"} if kind in _SEPARATE_PROXY_BASE else {}),
    }
    for kind in SIMS
}


def _tiktok_error(code: int, message: str) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, "request_id": secrets.token_hex(8), "data": {}})


def _client_ok(sim: Sim, request: Request, params: dict[str, str]) -> bool:
    if sim.auth == "basic":
        return _oauth.basic_credentials(request) == (SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET)
    if sim.auth == "stripe":
        return _oauth.basic_credentials(request) == (SANDBOX_CLIENT_SECRET, "")
    if sim.auth == "tiktok":
        return params.get("app_id") == SANDBOX_CLIENT_ID and params.get("secret") == SANDBOX_CLIENT_SECRET
    return _oauth.client_ok(request, params)


def _access_token(sim: Sim, access: str, account: dict[str, Any]) -> str:
    """Reddit and Resend send JWT access tokens whose claims name the account."""
    if sim.kind == "reddit-ads":
        return _oauth.fake_jwt({"lid": account["lid"], "jti": access})
    if sim.kind == "resend":
        return _oauth.fake_jwt({"sub": account["sub"], "name": account["name"], "jti": access})
    return access


def _token_handler(state: SandboxState, sim: Sim) -> Callable[[Request], Awaitable[Response]]:
    async def token(request: Request) -> Response:
        params = await _oauth.read_params(request)
        if not _client_ok(sim, request, params):
            if sim.auth == "tiktok":
                return _tiktok_error(40001, "The app_id or secret is invalid.")
            return _oauth.oauth_error("invalid_client", 401, "Client authentication failed")
        grant: _oauth.Grant | str
        if params.get("grant_type") == "refresh_token" and sim.refresh:
            grant = await _oauth.redeem_refresh(
                state, NAME, params.get("refresh_token", ""), rotate=sim.rotate
            )
            if isinstance(grant, str) and sim.kind == "reddit-ads":
                return JSONResponse({"message": "Bad Request", "error": 400}, status_code=400)
        elif sim.auth == "tiktok" or params.get("grant_type") == "authorization_code":
            grant = await _oauth.redeem(
                state, NAME, params, sim.account, code_key="auth_code" if sim.auth == "tiktok" else "code"
            )
        else:
            return _oauth.oauth_error("unsupported_grant_type")
        if isinstance(grant, str):
            if sim.auth == "tiktok":
                return _tiktok_error(40002, "Auth code is invalid or expired.")
            return _oauth.oauth_error(grant, 400, "The authorization grant is invalid")
        if grant.kind != sim.kind:
            return _oauth.oauth_error("invalid_grant", 400, "Code issued to another client")
        access, refresh = _oauth.mint(
            state, NAME, grant, prefix=sim.kind.split("-")[0], expires=bool(sim.lifetime)
        )
        wire_access = _access_token(sim, access, grant.account)
        if wire_access != access:
            with state.lock:
                state.tokens[wire_access] = state.tokens.pop(access)
        if not sim.refresh:
            with state.lock:
                state.refresh_tokens.pop(refresh, None)
        if sim.auth == "tiktok":
            advertisers = (
                [] if state.provider_data(NAME).get("no_advertisers") else grant.account["advertiser_ids"]
            )
            return JSONResponse(
                {
                    "code": 0,
                    "message": "OK",
                    "request_id": secrets.token_hex(8),
                    "data": {"access_token": wire_access, "advertiser_ids": advertisers, "scope": [1, 4]},
                }
            )
        shape = sim.shape or _standard
        body = shape(sim, grant, wire_access, refresh, state)
        if sim.kind == "intercom":
            body["token"] = wire_access  # Intercom sends the token twice
        return JSONResponse(body)

    return token


def routes(state: SandboxState) -> list[BaseRoute]:
    result: list[BaseRoute] = []
    for sim in SIMS.values():

        def authorize_handler(s: Sim) -> Callable[[Request], Awaitable[Response]]:
            async def authorize(request: Request) -> Response:
                return await _oauth.authorize(request, state, NAME, s.kind, client_param=s.client_param)

            return authorize

        def extra_handler(s: Sim, h: Handler) -> Callable[[Request], Awaitable[Response]]:
            async def call(request: Request) -> Response:
                return await h(request, state, s)

            return call

        def revoke_handler(s: Sim) -> Callable[[Request], Awaitable[Response]]:
            async def revoke(request: Request) -> Response:
                params = await _oauth.read_params(request)
                if not _oauth.revoke_token(state, NAME, params.get("token", "")):
                    return _oauth.oauth_error("invalid_token", 400)
                return JSONResponse({})

            return revoke

        result.append(Route(f"/{sim.kind}/authorize", authorize_handler(sim), methods=["GET"]))
        result.append(Route(f"/{sim.kind}{sim.token_path}", _token_handler(state, sim), methods=["POST"]))
        for path, handler in sim.extra.items():
            result.append(Route(f"/{sim.kind}{path}", extra_handler(sim, handler), methods=["GET"]))
        if sim.revoke_path:
            result.append(Route(f"/{sim.kind}{sim.revoke_path}", revoke_handler(sim), methods=["POST"]))
    return result
