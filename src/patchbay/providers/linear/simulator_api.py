"""Linear's GraphQL API (POST /graphql): the `teams` connection and `viewer { organization }`.

Linear's wire format: `Authorization: Bearer <token>` (personal API keys raw), JSON
`{"query", "variables"}`, answers `{"data": ...}`; failures carry
`{"errors": [{"message", "extensions": {"code", "userPresentableMessage"}}], "data": null}` —
authentication 401 (`AUTHENTICATION_ERROR`), permission 403 (`FORBIDDEN`), rate limits HTTP 400
with `RATELIMITED` and `X-RateLimit-Requests-Reset` (Unix milliseconds).

Seed with `add_team`; issue a token with `issue_token` (or `state.issue_tokens("linear", "linear",
{"organization": {...}})`). `set_page_size` shortens pages to exercise `pageInfo`.
"""

from __future__ import annotations

import base64
import re
import time
import uuid
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from patchbay.simkit.state import Fault, SandboxState

NAME = "linear"
KIND_URLS = {"linear": {"API_URL": ""}}

DEFAULT_ORGANIZATION = {
    "id": "b6c5a0f4-5bb1-4a1e-9d1c-0e7a6c1f0a11",
    "name": "Sandbox Inc",
    "urlKey": "sandbox",
}
DEFAULT_PAGE = 50


def _gql_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        {
            "errors": [
                {
                    "message": message,
                    "extensions": {"code": code, "type": code, "userPresentableMessage": message},
                }
            ],
            "data": None,
        },
        status_code=status,
        headers=headers,
    )


def _rate_limited(retry_after: int) -> JSONResponse:
    reset_ms = int((time.time() + retry_after) * 1000)
    return _gql_error(
        400,
        "RATELIMITED",
        "Rate limit exceeded",
        headers={
            "X-RateLimit-Requests-Limit": "5000",
            "X-RateLimit-Requests-Remaining": "0",
            "X-RateLimit-Requests-Reset": str(reset_ms),
        },
    )


def render_fault(fault: Fault, request: Request) -> Response | None:
    if not request.url.path.endswith("/graphql"):
        return None  # OAuth paths: linear_oauth renders them
    if fault.mode in {"401", "revoked"}:
        return _gql_error(401, "AUTHENTICATION_ERROR", "Authentication required, not authenticated")
    if fault.mode == "403":
        return _gql_error(403, "FORBIDDEN", "You don't have permission to access this resource")
    if fault.mode == "429":
        return _rate_limited(fault.retry_after)
    return None


# --- seeding ----------------------------------------------------------------------------------


def add_team(state: SandboxState, name: str, key: str | None = None, team_id: str | None = None) -> str:
    team_id = team_id or str(uuid.uuid4())
    teams = state.provider_data(NAME).setdefault("teams", [])
    teams.append({"id": team_id, "name": name, "key": key or name[:3].upper()})
    return team_id


def set_page_size(state: SandboxState, size: int | None) -> None:
    state.provider_data(NAME)["page_size"] = size


def issue_token(
    state: SandboxState, organization: dict[str, Any] | None = None, *, expires: bool = True
) -> str:
    access, _ = state.issue_tokens(
        NAME, "linear", {"organization": organization or DEFAULT_ORGANIZATION}, expires=expires, prefix="lin"
    )
    return access


# --- routes -----------------------------------------------------------------------------------

_ARG = re.compile(r"teams\s*\(([^)]*)\)")


def _teams_args(query: str, variables: dict[str, Any]) -> tuple[int, str | None]:
    first: Any = None
    after: Any = None
    match = _ARG.search(query)
    if match:
        for part in match.group(1).split(","):
            key, _, value = part.partition(":")
            key, value = key.strip(), value.strip()
            if value.startswith("$"):
                resolved = variables.get(value[1:])
            elif value.startswith('"'):
                resolved = value.strip('"')
            elif value == "null":
                resolved = None
            else:
                resolved = value
            if key == "first":
                first = resolved
            elif key == "after":
                after = resolved
    try:
        size = int(first) if first is not None else DEFAULT_PAGE
    except (TypeError, ValueError):
        size = DEFAULT_PAGE
    return max(1, min(size, 250)), (str(after) if after else None)


def routes(state: SandboxState) -> list[BaseRoute]:
    async def graphql(request: Request) -> Response:
        header = request.headers.get("authorization", "").strip()
        token = header[7:].strip() if header.lower().startswith("bearer ") else header
        with state.lock:
            issued = state.tokens.get(token) if token else None
        expired = issued is not None and issued.expires_at is not None and issued.expires_at < time.time()
        if issued is None or issued.provider != NAME or issued.revoked or expired:
            return _gql_error(401, "AUTHENTICATION_ERROR", "Authentication required, not authenticated")
        try:
            body = orjson.loads(await request.body())
            query = str(body["query"])
            variables = body.get("variables") or {}
        except (orjson.JSONDecodeError, KeyError, TypeError):
            return _gql_error(400, "GRAPHQL_PARSE_FAILED", "Must provide query string.")
        data: dict[str, Any] = {}
        if "viewer" in query:
            org = issued.account.get("organization") or DEFAULT_ORGANIZATION
            data["viewer"] = {"id": "viewer-" + str(org["id"])[:8], "organization": org}
        if re.search(r"\bteams\b", query):
            size, after = _teams_args(query, variables)
            forced = state.provider_data(NAME).get("page_size")
            if forced:
                size = min(size, int(forced))
            teams: list[dict[str, Any]] = list(state.provider_data(NAME).get("teams", []))
            start = 0
            if after:
                try:
                    start = int(base64.b64decode(after).decode().split(":", 1)[1])
                except (ValueError, IndexError):
                    return _gql_error(400, "INVALID_INPUT", "Argument Validation Error: after")
            chunk = teams[start : start + size]
            end = start + len(chunk)
            data["teams"] = {
                "nodes": chunk,
                "pageInfo": {
                    "hasNextPage": end < len(teams),
                    "endCursor": base64.b64encode(f"team:{end}".encode()).decode() if chunk else None,
                },
            }
        if not data:
            return _gql_error(400, "GRAPHQL_VALIDATION_FAILED", "Cannot query the requested field.")
        return JSONResponse({"data": data})

    return [Route("/graphql", graphql, methods=["POST"])]


def seed_demo(state: SandboxState) -> None:
    for name, key in (("Engineering", "ENG"), ("Design", "DES")):
        add_team(state, name, key)
