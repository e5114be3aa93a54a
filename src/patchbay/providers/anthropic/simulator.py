"""Anthropic's API on loopback: GET /v1/models with x-api-key and anthropic-version, and Anthropic's
error format ({"type": "error", "error": {"type", "message"}})."""

from __future__ import annotations

import secrets

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from patchbay.simkit.state import Fault, SandboxState

NAME = "anthropic"
KIND_URLS = {"anthropic": {"API_URL": ""}}
MODELS = [
    {"type": "model", "id": "claude-sonnet-4-5", "display_name": "Claude Sonnet 4.5", "created_at": "2025-09-29T00:00:00Z"},
    {"type": "model", "id": "claude-haiku-4-5", "display_name": "Claude Haiku 4.5", "created_at": "2025-10-01T00:00:00Z"},
]  # fmt: skip


def _error(status: int, error_type: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"type": "error", "error": {"type": error_type, "message": message}}
    return JSONResponse(body, status_code=status, headers=headers)


def render_fault(fault: Fault, request: Request) -> Response | None:
    if fault.mode in {"401", "revoked"}:
        return _error(401, "authentication_error", "invalid x-api-key")
    if fault.mode == "403":
        return _error(403, "permission_error", "Your API key does not have permission to use the specified resource.")
    if fault.mode == "429":
        return _error(429, "rate_limit_error", "Number of requests has exceeded your rate limit", {"retry-after": str(fault.retry_after)})
    if fault.mode == "500":
        return _error(500, "api_error", "Internal server error")
    if fault.mode == "503":
        return _error(529, "overloaded_error", "Overloaded")
    return None


def add_key(state: SandboxState, api_key: str | None = None, *, allowed: bool = True) -> str:
    """An API key; `allowed=False`: valid, but without permission to list models."""
    key = api_key or "sk-ant-api03-" + secrets.token_urlsafe(32)
    state.provider_data(NAME).setdefault("keys", {})[key] = {"allowed": allowed}
    return key


def routes(state: SandboxState) -> list[BaseRoute]:
    async def models(request: Request) -> Response:
        if not request.headers.get("anthropic-version"):
            return _error(400, "invalid_request_error", "anthropic-version: header is required")
        key = state.provider_data(NAME).get("keys", {}).get(request.headers.get("x-api-key", ""))
        if key is None:
            return _error(401, "authentication_error", "invalid x-api-key")
        if not key["allowed"]:
            return _error(403, "permission_error", "Your API key does not have permission to use the specified resource.")
        limit = max(1, min(int(request.query_params.get("limit", "20") or 20), 1000))
        page = MODELS[:limit]
        return JSONResponse(
            {"data": page, "has_more": len(MODELS) > limit, "first_id": page[0]["id"], "last_id": page[-1]["id"]}
        )

    return [Route("/v1/models", models)]


DEMO_API_KEY = "sk-ant-sandbox-anthropic-api-key"


def seed_demo(state: SandboxState) -> None:
    add_key(state, DEMO_API_KEY)
