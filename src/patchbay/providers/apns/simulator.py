"""APNs on loopback (HTTP/1.1 here; Apple's own speaks HTTP/2): POST /3/device/<token> under
/apns/production and /apns/sandbox, checking the provider token (ES256, `kid` a registered key,
`iss` its team, an hour old at most) and the topic before the device token, as APNs does."""

from __future__ import annotations

import secrets
import time
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from patchbay.simkit.state import Fault, SandboxState

NAME = "apns"
KIND_URLS = {"apns": {"API_URL": "/production", "SANDBOX_API_URL": "/sandbox"}}


def _reason(status: int, reason: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"reason": reason}, status_code=status, headers=headers)


def render_fault(fault: Fault, request: Request) -> Response | None:
    if fault.mode in {"401", "403", "revoked"}:
        return _reason(403, "InvalidProviderToken")
    if fault.mode == "429":
        return _reason(429, "TooManyProviderTokenUpdates")
    if fault.mode == "500":
        return _reason(500, "InternalServerError")
    if fault.mode == "503":
        return _reason(503, "ServiceUnavailable")
    return None


def add_key(
    state: SandboxState, team_id: str = "TEAM123456", topics: tuple[str, ...] = ("com.example.app",),
    environments: tuple[str, ...] = ("production", "sandbox"),
) -> tuple[str, str]:
    """An auth key of `team_id` allowed to push to `topics`; answers (key id, .p8 PEM)."""
    key = ec.generate_private_key(ec.SECP256R1())
    key_id = secrets.token_hex(5).upper()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    state.provider_data(NAME).setdefault("keys", {})[key_id] = {
        "team_id": team_id, "public": key.public_key(), "topics": set(topics), "environments": set(environments),
    }  # fmt: skip
    return key_id, pem


def _claims(state: SandboxState, authorization: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    if not authorization.lower().startswith("bearer "):
        return None
    token = authorization[7:]
    try:
        header = jwt.get_unverified_header(token)
        found = state.provider_data(NAME).get("keys", {}).get(header.get("kid"))
        if found is None or header.get("alg") != "ES256":
            return None
        claims = jwt.decode(token, found["public"], algorithms=["ES256"], options={"require": ["iss", "iat"]})
    except jwt.PyJWTError:
        return None
    if claims["iss"] != found["team_id"] or not time.time() - 3600 <= claims["iat"] <= time.time() + 60:
        return None
    return claims, found


def routes(state: SandboxState) -> list[BaseRoute]:
    async def push(request: Request) -> Response:
        checked = _claims(state, request.headers.get("authorization", ""))
        if checked is None:
            return _reason(403, "InvalidProviderToken")
        _, key = checked
        if request.path_params["environment"] not in key["environments"]:
            return _reason(403, "BadEnvironmentKeyInToken")
        if request.headers.get("apns-topic") not in key["topics"]:
            return _reason(400, "TopicDisallowed")
        devices = state.provider_data(NAME).setdefault("devices", {})
        if request.path_params["token"] not in devices:
            return _reason(400, "BadDeviceToken")
        devices[request.path_params["token"]].append(await request.json())
        return Response(status_code=200, headers={"apns-id": secrets.token_hex(16)})

    return [Route("/{environment:str}/3/device/{token:str}", push, methods=["POST"])]
