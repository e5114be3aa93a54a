"""A PostHog instance on loopback: GET /api/users/@me/ with a personal API key (Bearer), answering
PostHog's user object, and PostHog's own error envelope."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from patchbay.simkit.state import Fault, SandboxState

NAME = "posthog"
KIND_URLS = {"posthog": {"API_URL": ""}}


def _error(status: int, type_: str, code: str, detail: str) -> JSONResponse:
    return JSONResponse({"type": type_, "code": code, "detail": detail, "attr": None}, status_code=status)


def render_fault(fault: Fault, request: Request) -> Response | None:
    if fault.mode in {"401", "revoked"}:
        return _error(401, "authentication_error", "authentication_failed", "Personal API key found in request Authorization header is invalid.")
    if fault.mode == "403":
        return _error(403, "authentication_error", "permission_denied", "API key missing required scope 'user:read'")
    if fault.mode == "429":
        return JSONResponse(
            {"type": "throttled_error", "code": "throttled", "detail": "Request was throttled.", "attr": None},
            status_code=429,
            headers={"Retry-After": str(fault.retry_after)},
        )
    return None


def add_user(
    state: SandboxState,
    *,
    api_key: str | None = None,
    email: str = "ada@example.com",
    scopes: tuple[str, ...] = ("*",),
    organization: str = "Sandbox Org",
) -> tuple[str, dict[str, Any]]:
    """A user and one personal API key of theirs; answers (key, user)."""
    key = api_key or "phx_" + secrets.token_urlsafe(24)
    user = {
        "id": len(state.provider_data(NAME).setdefault("keys", {})) + 1,
        "uuid": str(uuid.uuid4()),
        "distinct_id": secrets.token_hex(8),
        "first_name": email.split("@")[0].title(),
        "last_name": "",
        "email": email,
        "is_email_verified": True,
        "organization": {"id": str(uuid.uuid4()), "name": organization},
    }
    state.provider_data(NAME)["keys"][key] = {"user": user, "scopes": scopes}
    return key, user


def routes(state: SandboxState) -> list[BaseRoute]:
    async def me(request: Request) -> Response:
        header = request.headers.get("authorization", "")
        found = state.provider_data(NAME).get("keys", {}).get(header.removeprefix("Bearer ").strip())
        if not header.startswith("Bearer ") or found is None:
            return _error(401, "authentication_error", "authentication_failed", "Personal API key found in request Authorization header is invalid.")
        if not {"*", "user:read", "user:write"} & set(found["scopes"]):
            return _error(403, "authentication_error", "permission_denied", "API key missing required scope 'user:read'")
        return JSONResponse(found["user"])

    return [Route("/api/users/@me/", me)]


DEMO_API_KEY = "phx_sandbox_posthog_personal_api_key"


def seed_demo(state: SandboxState) -> None:
    """A PostHog user whose personal API key is DEMO_API_KEY."""
    add_user(state, api_key=DEMO_API_KEY, email="demo@example.com")
