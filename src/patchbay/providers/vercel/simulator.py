"""Vercel: the "link existing account" code exchange, the marketplace resource import API (where
environment secrets land), installation liveness, and a JWKS that signs the marketplace's OIDC tokens.

Test helpers (called from test code against the shared `SandboxState`):
  add_installation(state, installation_id, ...) -> access token Vercel would hand over
  issue_code(state, installation_id, ...)       -> a single-use code for /v2/oauth/access_token
  mint_oidc_token(state, claims, ...)           -> an RS256 JWT signed with the current key
  rotate_signing_key(state)                     -> a new current key id (old keys stay published)
  resources(state)                              -> every imported resource, keyed "cfg/resource_id"
"""

from __future__ import annotations

import base64
import secrets
import threading
import time
from typing import Any
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from patchbay.simkit.state import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, Fault, SandboxState

NAME = "vercel"
KIND_URLS = {"vercel": {"API_URL": ""}}
ISSUER = "https://marketplace.vercel.com"
JWKS_PATH = "/.well-known/jwks"
CLIENT_ID = SANDBOX_CLIENT_ID
CLIENT_SECRET = SANDBOX_CLIENT_SECRET


def extra_env(base_url: str) -> dict[str, str]:
    """Vercel is no OAuth kind of the catalogue, but its marketplace calls need the app's
    credentials and the JWKS that signs them."""
    return {
        "PATCHBAY_VERCEL_CLIENT_ID": CLIENT_ID,
        "PATCHBAY_VERCEL_CLIENT_SECRET": CLIENT_SECRET,
        "PATCHBAY_VERCEL_JWKS_URL": f"{base_url}/{NAME}{JWKS_PATH}",
    }


_key_lock = threading.Lock()


def _error(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, **extra}}, status_code=status)


def render_fault(fault: Fault, request: Request) -> Response | None:
    if fault.mode in {"401", "revoked", "403"}:
        return _error(403, "forbidden", "Not authorized", invalidToken=True)
    if fault.mode == "429":
        reset = int(time.time()) + fault.retry_after
        return JSONResponse(
            {
                "error": {
                    "code": "rate_limited",
                    "message": "Rate limit exceeded",
                    "limit": {"remaining": 0, "reset": reset, "resetMs": reset * 1000, "total": 6},
                }
            },
            status_code=429,
            headers={
                "Retry-After": str(fault.retry_after),
                "X-RateLimit-Limit": "6",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": str(reset),
            },
        )
    if fault.mode in {"500", "503"}:
        return _error(int(fault.mode), "internal_server_error", "An unexpected internal error occurred")
    return None


# --- data -----------------------------------------------------------------------------------------


def _data(state: SandboxState) -> dict[str, Any]:
    data = state.provider_data(NAME)
    data.setdefault("installations", {})
    data.setdefault("resources", {})
    data.setdefault("keys", [])
    return data


def add_installation(
    state: SandboxState,
    installation_id: str | None = None,
    *,
    user_id: str = "2qDDuGFTWXBLDNnqZfWPDp1A",
    team_id: str | None = None,
) -> str:
    """Registers an installation Vercel knows about and returns its long-lived access token."""
    installation_id = installation_id or new_installation_id()
    account = {"installation_id": installation_id, "user_id": user_id, "team_id": team_id}
    access, _ = state.issue_tokens(NAME, "vercel", account, expires=False, prefix="vercel")
    _data(state)["installations"][installation_id] = {"removed": False, **account}
    return access


def remove_installation(state: SandboxState, installation_id: str) -> None:
    """The customer uninstalled on Vercel: its tokens stop working."""
    data = _data(state)
    if installation_id in data["installations"]:
        data["installations"][installation_id]["removed"] = True
    with state.lock:
        for issued in state.tokens.values():
            if issued.provider == NAME and issued.account.get("installation_id") == installation_id:
                issued.revoked = True


def new_installation_id() -> str:
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    return "icfg_" + "".join(secrets.choice(alphabet) for _ in range(24))


def issue_code(
    state: SandboxState,
    installation_id: str | None = None,
    *,
    user_id: str = "2qDDuGFTWXBLDNnqZfWPDp1A",
    team_id: str | None = "team_LLHUOMOoDlqOp8wPE4kFo9pE",
    redirect_uri: str | None = None,
) -> str:
    """A code as Vercel appends it to the integration's Redirect URL (single-use)."""
    installation_id = installation_id or new_installation_id()
    return state.issue_code(
        NAME,
        "vercel",
        {
            "installation_id": installation_id,
            "user_id": user_id,
            "team_id": team_id,
            "redirect_uri": redirect_uri,
        },
    )


def resources(state: SandboxState) -> dict[str, dict[str, Any]]:
    return dict(_data(state)["resources"])


# --- OIDC signing keys ----------------------------------------------------------------------------


def _b64url_uint(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def rotate_signing_key(state: SandboxState) -> str:
    """Adds a new RSA key and makes it the one that signs; earlier keys stay in the JWKS."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    kid = "sandbox-" + secrets.token_hex(6)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    numbers = key.public_key().public_numbers()
    jwk = {
        "kty": "RSA",
        "kid": kid,
        "use": "sig",
        "alg": "RS256",
        "n": _b64url_uint(numbers.n),
        "e": _b64url_uint(numbers.e),
    }
    with _key_lock:
        _data(state)["keys"].append({"kid": kid, "pem": pem, "jwk": jwk})
    return kid


def _current_key(state: SandboxState) -> dict[str, Any]:
    with _key_lock:
        keys = _data(state)["keys"]
        if keys:
            return dict(keys[-1])
    rotate_signing_key(state)
    return _current_key(state)


def jwks(state: SandboxState) -> dict[str, Any]:
    _current_key(state)
    with _key_lock:
        return {"keys": [k["jwk"] for k in _data(state)["keys"]]}


def mint_oidc_token(
    state: SandboxState,
    *,
    installation_id: str,
    audience: str = CLIENT_ID,
    issuer: str = ISSUER,
    auth: str = "user",
    user_role: str = "ADMIN",
    user_email: str | None = "owner@example.com",
    expires_in: int = 300,
    kid: str | None = None,
    extra: dict[str, Any] | None = None,
    private_key_pem: str | None = None,
) -> str:
    """A marketplace OIDC token as Vercel sends it (X-Vercel-Auth `user` or `system`)."""
    key = _current_key(state)
    now = int(time.time())
    account_id = "acc" + secrets.token_hex(8)
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": audience,
        "iat": now,
        "nbf": now,
        "exp": now + expires_in,
        "account_id": account_id,
        "installation_id": installation_id,
        "type": "access_token",
    }
    if auth == "user":
        user_id = secrets.token_hex(8)
        claims.update(
            sub=f"account:{account_id[3:]}:user:{user_id}",
            user_id=user_id,
            user_role=user_role,
            user_name="Sandbox User",
        )
        if user_email:
            claims["user_email"] = user_email
    else:
        claims["sub"] = f"account:{account_id[3:]}"
    claims.update(extra or {})
    return jwt.encode(
        claims, private_key_pem or key["pem"], algorithm="RS256", headers={"kid": kid or key["kid"]}
    )


# --- routes ---------------------------------------------------------------------------------------


def _bearer_account(state: SandboxState, request: Request) -> dict[str, Any] | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    issued = state.token(header[7:].strip())
    if issued is None or issued.provider != NAME:
        return None
    return issued.account


def _team_ok(account: dict[str, Any], request: Request) -> bool:
    """A team install's token only works with ?teamId= of that team (Vercel scopes calls that way)."""
    team_id = account.get("team_id")
    return not team_id or request.query_params.get("teamId") == team_id


def routes(state: SandboxState) -> list[BaseRoute]:
    async def access_token(request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return JSONResponse(
                {"error": "invalid_client", "error_description": "Invalid client credentials"},
                status_code=401,
            )
        grant = state.redeem_code(form.get("code", ""))
        if grant is None or grant.get("provider") != NAME:
            return JSONResponse(
                {"error": "invalid_grant", "error_description": "The code is invalid or was already used"},
                status_code=400,
            )
        if grant.get("redirect_uri") and grant["redirect_uri"] != form.get("redirect_uri"):
            return JSONResponse(
                {"error": "invalid_grant", "error_description": "redirect_uri does not match"},
                status_code=400,
            )
        token = add_installation(
            state, grant["installation_id"], user_id=grant["user_id"], team_id=grant.get("team_id")
        )
        return JSONResponse(
            {
                "token_type": "Bearer",
                "access_token": token,
                "installation_id": grant["installation_id"],
                "user_id": grant["user_id"],
                "team_id": grant.get("team_id"),
            }
        )

    async def installation(request: Request) -> Response:
        cfg = request.path_params["cfg"]
        account = _bearer_account(state, request)
        if account is None or account.get("installation_id") != cfg or not _team_ok(account, request):
            return _error(403, "forbidden", "Not authorized", invalidToken=True)
        found = _data(state)["installations"].get(cfg)
        if found is None or found["removed"]:
            return _error(404, "not_found", "Installation not found")
        return JSONResponse({"id": cfg, "userId": found["user_id"], "teamId": found.get("team_id")})

    async def import_resource(request: Request) -> Response:
        cfg = request.path_params["cfg"]
        rid = request.path_params["rid"]
        account = _bearer_account(state, request)
        if account is None or account.get("installation_id") != cfg or not _team_ok(account, request):
            return _error(403, "forbidden", "Not authorized", invalidToken=True)
        try:
            body = await request.json()
        except ValueError:
            return _error(400, "bad_request", "Invalid JSON body")
        missing = [f for f in ("productId", "name", "status") if not isinstance(body.get(f), str)]
        if missing:
            return _error(400, "bad_request", f"Missing required field: {missing[0]}")
        for secret in body.get("secrets") or []:
            if (
                not isinstance(secret, dict)
                or not secret.get("name")
                or not isinstance(secret.get("value"), str)
            ):
                return _error(400, "bad_request", "Every secret needs a name and a string value")
        _data(state)["resources"][f"{cfg}/{rid}"] = {"installation_id": cfg, "resource_id": rid, **body}
        return JSONResponse({"name": body["name"]})

    async def update_secrets(request: Request) -> Response:
        cfg = request.path_params["cfg"]
        rid = request.path_params["rid"]
        account = _bearer_account(state, request)
        if account is None or account.get("installation_id") != cfg or not _team_ok(account, request):
            return _error(403, "forbidden", "Not authorized", invalidToken=True)
        resource = _data(state)["resources"].get(f"{cfg}/{rid}")
        if resource is None:
            return _error(404, "not_found", "Resource not found")
        body = await request.json()
        if body.get("partial"):
            by_name = {s["name"]: s for s in resource.get("secrets") or []}
            by_name.update({s["name"]: s for s in body.get("secrets") or []})
            resource["secrets"] = list(by_name.values())
        else:
            resource["secrets"] = body.get("secrets") or []
        return Response(status_code=201)

    async def keys(_: Request) -> Response:
        return JSONResponse(jwks(state))

    return [
        Route("/v2/oauth/access_token", access_token, methods=["POST"]),
        Route("/v1/installations/{cfg}", installation, methods=["GET"]),
        Route("/v1/installations/{cfg}/resources/{rid}", import_resource, methods=["PUT"]),
        Route("/v1/installations/{cfg}/resources/{rid}/secrets", update_secrets, methods=["PUT"]),
        Route(JWKS_PATH, keys, methods=["GET"]),
        Route("/.well-known/jwks.json", keys, methods=["GET"]),
    ]
