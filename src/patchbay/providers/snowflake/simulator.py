"""Snowflake's REST endpoints on loopback: the drivers' login request (password) and the SQL API
with a key-pair JWT (RS256, issuer `ACCOUNT.USER.SHA256:<public key fingerprint>`), answering in
Snowflake's JSON."""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from patchbay.simkit.state import Fault, SandboxState

NAME = "snowflake"
KIND_URLS = {"snowflake": {"API_URL": ""}}


def render_fault(fault: Fault, request: Request) -> Response | None:
    if fault.mode in {"401", "403", "revoked"}:
        return JSONResponse({"code": "390144", "message": "JWT token is invalid.", "success": False}, status_code=401)
    return None


def _users(state: SandboxState) -> dict[tuple[str, str], dict[str, Any]]:
    return state.provider_data(NAME).setdefault("users", {})  # type: ignore[no-any-return]


def add_user(state: SandboxState, account: str, user: str, *, password: str | None = None) -> str | None:
    """A user with a password, or (no password) an RSA key pair: answers the private key's PEM."""
    record: dict[str, Any] = {"password": password}
    pem = None
    if password is None:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        der = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        record["fingerprint"] = "SHA256:" + base64.b64encode(hashlib.sha256(der).digest()).decode()
        record["public_key"] = key.public_key()
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
    _users(state)[(account.upper(), user.upper())] = record
    return pem


def routes(state: SandboxState) -> list[BaseRoute]:
    async def login(request: Request) -> Response:
        data = (await request.json()).get("data", {})
        record = _users(state).get((str(data.get("ACCOUNT_NAME", "")).upper(), str(data.get("LOGIN_NAME", "")).upper()))
        if record is None or record["password"] is None or record["password"] != data.get("PASSWORD"):
            return JSONResponse(
                {"data": {"nextAction": "RETRY_LOGIN"}, "code": "390100",
                 "message": "Incorrect username or password was specified.", "success": False}
            )  # fmt: skip
        return JSONResponse(
            {"data": {"token": "ver:1-" + secrets.token_urlsafe(24), "masterToken": secrets.token_urlsafe(24),
                      "validityInSeconds": 3600}, "code": None, "message": None, "success": True}
        )  # fmt: skip

    async def statements(request: Request) -> Response:
        refused = JSONResponse({"code": "390144", "message": "JWT token is invalid."}, status_code=401)
        header = request.headers.get("authorization", "")
        if request.headers.get("x-snowflake-authorization-token-type") != "KEYPAIR_JWT" or not header.startswith("Bearer "):
            return refused
        token = header[7:]
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            return refused
        account, _, user = str(claims.get("sub", "")).partition(".")
        record = _users(state).get((account, user))
        if record is None or "public_key" not in record or claims.get("iss") != f"{account}.{user}.{record['fingerprint']}":
            return refused
        try:
            jwt.decode(token, record["public_key"], algorithms=["RS256"])
        except jwt.PyJWTError:
            return refused
        return JSONResponse(
            {"resultSetMetaData": {"numRows": 1, "rowType": [{"name": "1", "type": "fixed"}]}, "data": [["1"]],
             "code": "090001", "statementHandle": secrets.token_hex(8), "message": "Statement executed successfully."}
        )  # fmt: skip

    return [
        Route("/session/v1/login-request", login, methods=["POST"]),
        Route("/api/v2/statements", statements, methods=["POST"]),
    ]


def seed_demo(state: SandboxState) -> None:
    """Account `sandbox-account`, user `PATCHBAY`, password `sandbox-snowflake-password`."""
    add_user(state, "sandbox-account", "PATCHBAY", password="sandbox-snowflake-password")
