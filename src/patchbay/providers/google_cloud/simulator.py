"""Google's OAuth token endpoint for service accounts on loopback: the JWT-bearer grant (RFC 7523),
its RS256 signature checked with the public key of a service account the simulator made, its
audience, lifetime and scope; and the IAM Credentials API's generateAccessToken, which answers only a
caller that holds the token creator role on the account (`allow_impersonation`). `GET /demo-key.json`
hands out the sandbox's demo key file."""

from __future__ import annotations

import secrets
import time
from typing import Any
from urllib.parse import parse_qs

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from patchbay.simkit.state import Fault, SandboxState

NAME = "google-cloud"
KIND_URLS = {
    kind: {"TOKEN_URL": "/token"}
    for kind in ("google-pubsub", "google-cloud-storage", "google-cloud-service-account", "firebase")
}
KIND_URLS["google-cloud-service-account"]["IAM_CREDENTIALS_URL"] = ""
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"


def _error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


def render_fault(fault: Fault, request: Request) -> Response | None:
    if fault.mode in {"401", "403", "revoked"}:
        return _error(400, "invalid_grant", "Invalid JWT Signature.")
    return None


def add_service_account(
    state: SandboxState, *, email: str | None = None, project_id: str = "sandbox-project"
) -> dict[str, Any]:
    """A new service account; answers its JSON key file as Google Cloud's console downloads it."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    email = email or f"sa-{secrets.token_hex(4)}@{project_id}.iam.gserviceaccount.com"
    key_id = secrets.token_hex(20)
    accounts = state.provider_data(NAME).setdefault("accounts", {})
    accounts[email] = {"public_key": key.public_key(), "key_id": key_id}
    return {
        "type": "service_account",
        "project_id": project_id,
        "private_key_id": key_id,
        "private_key": pem,
        "client_email": email,
        "client_id": str(secrets.randbelow(10**20)),
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": GOOGLE_TOKEN_URI,
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "universe_domain": "googleapis.com",
    }


def allow_impersonation(state: SandboxState, caller_email: str, target_email: str) -> None:
    """`caller_email` holds the Service Account Token Creator role on `target_email`."""
    state.provider_data(NAME).setdefault("token_creators", {}).setdefault(target_email, set()).add(
        caller_email
    )


def _google_error(status: int, reason: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": status, "message": message, "status": reason}}, status_code=status)


def routes(state: SandboxState) -> list[BaseRoute]:
    async def generate_access_token(request: Request) -> Response:
        """IAM Credentials: a short-lived token of the account in the path, for a caller allowed to."""
        name = request.path_params["name"]
        if not name.endswith(":generateAccessToken"):
            return _google_error(404, "NOT_FOUND", "Method not found.")
        target = name.removesuffix(":generateAccessToken")
        bearer = request.headers.get("authorization", "").removeprefix("Bearer ")
        issued = state.token(bearer)
        if issued is None or issued.provider != NAME:
            return _google_error(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")
        caller = issued.account.get("email")
        if target not in state.provider_data(NAME).get("accounts", {}):
            return _google_error(404, "NOT_FOUND", f"Service account {target} does not exist.")
        if caller not in state.provider_data(NAME).get("token_creators", {}).get(target, set()):
            return _google_error(
                403,
                "PERMISSION_DENIED",
                "Permission 'iam.serviceAccounts.getAccessToken' denied on resource.",
            )
        access, _ = state.issue_tokens(NAME, "google-service-account", {"email": target}, prefix="ya29")
        return JSONResponse({"accessToken": access, "expireTime": "2030-01-01T00:00:00Z"})

    async def token(request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return _error(400, "unsupported_grant_type", "Invalid grant_type.")
        assertion = str(form.get("assertion", ""))
        try:
            unverified = jwt.decode(assertion, options={"verify_signature": False})
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError:
            return _error(
                400,
                "invalid_grant",
                "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe.",
            )
        account = state.provider_data(NAME).get("accounts", {}).get(unverified.get("iss"))
        if account is None:
            return _error(400, "invalid_grant", "Invalid grant: account not found")
        if header.get("kid") != account["key_id"]:
            return _error(400, "invalid_grant", "Invalid JWT Signature.")
        try:
            claims = jwt.decode(
                assertion, account["public_key"], algorithms=["RS256"], audience=str(request.url), leeway=60
            )
        except jwt.InvalidAudienceError:
            return _error(400, "invalid_grant", "Invalid JWT: audience does not match the token endpoint.")
        except jwt.PyJWTError:
            return _error(400, "invalid_grant", "Invalid JWT Signature.")
        if not claims.get("scope") or claims["exp"] - claims["iat"] > 3600 or claims["exp"] < time.time():
            return _error(400, "invalid_scope", "Invalid OAuth scope or ID token audience provided.")
        access, _ = state.issue_tokens(
            NAME, "google-service-account", {"email": claims["iss"]}, prefix="ya29"
        )
        return JSONResponse({"access_token": access, "expires_in": 3599, "token_type": "Bearer"})

    async def demo_key(_: Request) -> Response:
        key = state.provider_data(NAME).get("demo_key")
        if key is None:
            return JSONResponse({"error": "no demo key: start the sandbox with --demo"}, status_code=404)
        return JSONResponse(key)

    return [
        Route("/token", token, methods=["POST"]),
        Route("/demo-key.json", demo_key, methods=["GET"]),
        Route("/v1/projects/-/serviceAccounts/{name:path}", generate_access_token, methods=["POST"]),
    ]


def seed_demo(state: SandboxState) -> None:
    """A service account whose key file the sandbox serves at /google-cloud/demo-key.json."""
    key = add_service_account(state, email="sandbox@sandbox-project.iam.gserviceaccount.com")
    state.provider_data(NAME)["demo_key"] = key
