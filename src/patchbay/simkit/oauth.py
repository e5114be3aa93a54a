"""Shared machinery of the OAuth simulators (not a provider module itself: the leading underscore
keeps it out of the provider list).

Every simulator's authorize endpoint skips the consent screen and redirects straight back to the
`redirect_uri` with a single-use code (or `error=access_denied` when told to deny). Token endpoints
check the client, the code, the redirect URI and the PKCE verifier (refused when the code
was issued without a challenge), and mint tokens through
`SandboxState.issue_tokens`, so the resource simulators (slack_api.py, ...) accept them.

Knobs, all in `state.provider_data(<NAME>)` (helpers below):
  account[kind]       the account the next authorization connects (`set_account`)
  deny                authorize redirects back with error=access_denied
  refresh_delay       seconds a refresh grant waits before answering (race tests)
  refresh_gate        a Gate: each refresh grant signals `arrived`, then waits for `release`
                      (tests that force an order on concurrent refreshes, with no sleeps)
  rotate              False: refresh grants keep the refresh token (defaults per provider)
  grants              every grant_type served, in order (`grants`)
  revoked             every token revoked through a revoke endpoint
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response

from patchbay.simkit.state import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, IssuedToken, SandboxState


# --- knobs --------------------------------------------------------------------------------------
@dataclass
class Gate:
    """Holds refresh grants at the provider until the test releases them (threading events: the
    sandbox serves from a thread of its own)."""

    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)


def set_account(state: SandboxState, provider: str, kind: str, account: dict[str, Any]) -> None:
    state.provider_data(provider).setdefault("account", {})[kind] = account


def account_for(state: SandboxState, provider: str, kind: str, default: dict[str, Any]) -> dict[str, Any]:
    stored = state.provider_data(provider).get("account", {}).get(kind)
    return dict(stored) if stored is not None else dict(default)


def set_knob(state: SandboxState, provider: str, name: str, value: Any) -> None:
    state.provider_data(provider)[name] = value


def grants(state: SandboxState, provider: str, grant_type: str | None = None) -> int:
    served = state.provider_data(provider).get("grants", [])
    return sum(1 for g in served if grant_type is None or g == grant_type)


def revoked(state: SandboxState, provider: str) -> list[str]:
    return list(state.provider_data(provider).get("revoked", []))


def _note(state: SandboxState, provider: str, key: str, value: Any) -> None:
    with state.lock:
        state.data.setdefault(provider, {}).setdefault(key, []).append(value)


# --- request parsing -------------------------------------------------------------------------------
async def read_params(request: Request) -> dict[str, str]:
    """Query, form and JSON bodies alike (providers differ; the simulators accept all)."""
    params = dict(request.query_params)
    if request.method != "POST":
        return params
    raw = await request.body()
    content_type = request.headers.get("content-type", "")
    if "json" in content_type:
        try:
            body = orjson.loads(raw) if raw else {}
        except orjson.JSONDecodeError:
            body = {}
        if isinstance(body, dict):
            params.update({k: str(v) for k, v in body.items() if v is not None})
    else:
        params.update(dict(parse_qsl(raw.decode(errors="replace"), keep_blank_values=True)))
    return params


def basic_credentials(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    if not header.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return user, password


def client_ok(request: Request, params: dict[str, str]) -> bool:
    """The sandbox app's credentials, in the body or as HTTP Basic."""
    basic = basic_credentials(request)
    if basic is not None:
        return basic == (SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET)
    return (
        params.get("client_id") == SANDBOX_CLIENT_ID and params.get("client_secret") == SANDBOX_CLIENT_SECRET
    )


def bearer(request: Request) -> str:
    header = request.headers.get("authorization", "").strip()
    return header[7:].strip() if header.lower().startswith("bearer ") else header


def live_token(state: SandboxState, provider: str, token: str) -> IssuedToken | None:
    issued = state.token(token)
    return issued if issued is not None and issued.provider == provider else None


# --- authorize ---------------------------------------------------------------------------------------
async def authorize(
    request: Request, state: SandboxState, provider: str, kind: str, *, client_param: str = "client_id"
) -> Response:
    params = dict(request.query_params)
    redirect_uri = params.get("redirect_uri")
    if params.get(client_param) != SANDBOX_CLIENT_ID:
        return PlainTextResponse("unknown client", status_code=400)
    if not redirect_uri:
        return PlainTextResponse("redirect_uri is required", status_code=400)
    back: dict[str, str] = {"state": params.get("state", "")}
    if state.provider_data(provider).get("deny"):
        back["error"] = "access_denied"
    else:
        back["code"] = state.issue_code(
            provider,
            kind,
            {
                "redirect_uri": redirect_uri,
                "scope": params.get("scope", ""),
                "code_challenge": params.get("code_challenge"),
                "code_challenge_method": params.get("code_challenge_method"),
                "authorize_params": params,
            },
        )
    separator = "&" if "?" in redirect_uri else "?"
    return RedirectResponse(f"{redirect_uri}{separator}{urlencode(back)}", status_code=302)


@dataclass
class Grant:
    kind: str
    account: dict[str, Any]
    authorize_params: dict[str, str]
    refresh_token: str | None = None


def _pkce_ok(code: dict[str, Any], verifier: str | None) -> bool:
    challenge = code.get("code_challenge")
    if not challenge:
        # OAuth 2.1 (4.1.3): a verifier for a code issued without a challenge is refused, so that
        # a client that lost its challenge on the way (a downgrade) is told so.
        return not verifier
    if not verifier:
        return False
    if code.get("code_challenge_method") == "plain":
        return bool(verifier == challenge)
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return bool(digest == challenge)


async def redeem(
    state: SandboxState,
    provider: str,
    params: dict[str, str],
    default_account: dict[str, Any],
    *,
    code_key: str = "code",
) -> Grant | str:
    """An authorization-code grant, or the OAuth error code explaining why not."""
    code = state.redeem_code(params.get(code_key, ""))
    if code is None or code["provider"] != provider:
        return "invalid_grant"
    if params.get("redirect_uri") is not None and params["redirect_uri"] != code["redirect_uri"]:
        return "redirect_uri_mismatch"
    if not _pkce_ok(code, params.get("code_verifier")):
        return "invalid_grant"
    _note(state, provider, "grants", "authorization_code")
    kind = str(code["kind"])
    return Grant(
        kind, account_for(state, provider, kind, default_account), code.get("authorize_params") or {}
    )


async def redeem_refresh(
    state: SandboxState, provider: str, refresh_token: str, *, rotate: bool
) -> Grant | str:
    delay = float(state.provider_data(provider).get("refresh_delay") or 0)
    _note(state, provider, "grants", "refresh_token")
    if delay:
        await asyncio.sleep(delay)
    gate = state.provider_data(provider).get("refresh_gate")
    if isinstance(gate, Gate):
        gate.arrived.set()
        await asyncio.to_thread(gate.release.wait, state.timeout_seconds)
    rotate = bool(state.provider_data(provider).get("rotate", rotate))
    with state.lock:
        issued = state.refresh_tokens.get(refresh_token)
    if issued is None or issued.revoked or issued.provider != provider:
        return "invalid_grant"
    if rotate:
        if state.rotate_refresh(refresh_token) is None:
            return "invalid_grant"
        return Grant(issued.kind, issued.account, {})
    return Grant(issued.kind, issued.account, {}, refresh_token=refresh_token)


def mint(
    state: SandboxState, provider: str, grant: Grant, *, prefix: str, expires: bool = True
) -> tuple[str, str]:
    """(access, refresh). A grant that keeps its refresh token gets it back instead of a new one."""
    access, refresh = state.issue_tokens(provider, grant.kind, grant.account, expires=expires, prefix=prefix)
    if grant.refresh_token:
        with state.lock:
            state.refresh_tokens.pop(refresh, None)
        refresh = grant.refresh_token
    return access, refresh


def revoke_token(state: SandboxState, provider: str, token: str) -> bool:
    known = state.revoke(token)
    if known:
        _note(state, provider, "revoked", token)
    return known


def fake_jwt(claims: dict[str, Any]) -> str:
    """A JWT-shaped token (unsigned: the simulators' clients read claims, they do not verify)."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(orjson.dumps(value)).decode().rstrip("=")

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}.{secrets.token_urlsafe(8)}"


def oauth_error(error: str, status: int = 400, description: str | None = None) -> JSONResponse:
    body: dict[str, Any] = {"error": error}
    if description:
        body["error_description"] = description
    return JSONResponse(body, status_code=status)
