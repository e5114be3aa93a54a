"""Linear teams over GraphQL (relay pagination, bounded)."""

from __future__ import annotations

from typing import Any

import httpx

from patchbay.config import Settings
from patchbay.kit.http import outbound_client
from patchbay.kit.provider_errors import Failure, UpstreamError, classify_status, json_body, send
from patchbay.kit.retry import read_with_retries
from patchbay.kit.retry_after import retry_after_seconds

DEFAULT_API_URL = "https://api.linear.app"
TEAMS_QUERY = (
    "query Teams($first: Int!, $after: String) "
    "{ teams(first: $first, after: $after) { nodes { id name } pageInfo { hasNextPage endCursor } } }"
)
PAGE_SIZE = 100
MAX_PAGES = 20

AUTH_CODES = frozenset({"AUTHENTICATION_ERROR", "UNAUTHENTICATED"})
PERMISSION_CODES = frozenset({"FORBIDDEN"})


def api_url(settings: Settings) -> str:
    return (settings.kind_setting("linear", "API_URL") or DEFAULT_API_URL).rstrip("/")


def _error_codes(body: Any) -> list[str]:
    if not isinstance(body, dict) or not isinstance(body.get("errors"), list):
        return []
    codes = []
    for item in body["errors"]:
        extensions = item.get("extensions") if isinstance(item, dict) else None
        if isinstance(extensions, dict) and extensions.get("code"):
            codes.append(str(extensions["code"]))
    return codes


def classify(response: httpx.Response, body: Any) -> UpstreamError | None:
    codes = _error_codes(body)
    if "RATELIMITED" in codes or response.status_code == 429:
        return UpstreamError(
            "linear", Failure.RATE_LIMITED, "RATELIMITED", retry_after=retry_after_seconds(response)
        )
    if any(code in AUTH_CODES for code in codes):
        return UpstreamError("linear", Failure.AUTH, codes[0], provider_code=codes[0])
    if any(code in PERMISSION_CODES for code in codes):
        return UpstreamError("linear", Failure.PERMISSION, codes[0], provider_code=codes[0])
    error = classify_status("linear", response)
    if error is not None:
        return error
    if codes or (isinstance(body, dict) and body.get("errors")):
        return UpstreamError(
            "linear", Failure.UNAVAILABLE, codes[0] if codes else "graphql error", retryable=False
        )
    return None


class LinearClient:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def _query(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        async def once() -> dict[str, Any]:
            response = await send(
                self.http, "linear", "POST", "/graphql", json={"query": query, "variables": variables}
            )
            try:
                body = json_body("linear", response)
            except UpstreamError:
                # A non-JSON body: the status says more than the body (a 401 page, a 503 page).
                raise classify_status("linear", response) or UpstreamError(
                    "linear", Failure.UNAVAILABLE, "malformed body"
                ) from None
            error = classify(response, body)
            if error is not None:
                raise error
            data = body.get("data") if isinstance(body, dict) else None
            if not isinstance(data, dict):
                raise UpstreamError("linear", Failure.UNAVAILABLE, "unexpected body shape")
            return data

        return await read_with_retries(once)

    async def teams(self) -> list[dict[str, Any]]:
        teams: list[dict[str, Any]] = []
        after: str | None = None
        for _ in range(MAX_PAGES):
            data = await self._query(TEAMS_QUERY, {"first": PAGE_SIZE, "after": after})
            connection = data.get("teams")
            nodes = connection.get("nodes") if isinstance(connection, dict) else None
            if not isinstance(connection, dict) or not isinstance(nodes, list):
                raise UpstreamError("linear", Failure.UNAVAILABLE, "unexpected body shape")
            teams.extend(
                {"id": str(n["id"]), "name": str(n.get("name", ""))}
                for n in nodes
                if isinstance(n, dict) and "id" in n
            )
            page_info = connection.get("pageInfo") or {}
            after = page_info.get("endCursor")
            if not page_info.get("hasNextPage") or not after:
                break
        return teams


def linear_http(settings: Settings, token: str, *, timeout: float) -> httpx.AsyncClient:
    return outbound_client(
        timeout=httpx.Timeout(timeout),
        base_url=api_url(settings),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
